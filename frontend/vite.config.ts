import { fileURLToPath } from 'node:url';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'vitest/config';

const apiTarget = process.env.NETPULSE_DEV_API ?? 'http://127.0.0.1:8000';

export default defineConfig({
  base: '/',
  plugins: [svelte()],
  resolve: {
    alias: {
      // The only backend code the dashboard may import: JSON shapes and unit helpers.
      $shared: fileURLToPath(new URL('../src/shared', import.meta.url)),
    },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    reportCompressedSize: true,
  },
  server: {
    proxy: {
      '/api': { target: apiTarget, changeOrigin: false },
      '/health': apiTarget,
      '/collector': apiTarget,
    },
  },
  test: {
    include: ['src/**/*.spec.ts'],
    environment: 'node',
    // Pin the clock's zone so time labels are the same on every machine.
    env: { TZ: 'UTC' },
  },
});
