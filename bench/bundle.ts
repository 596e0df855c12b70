/** The dashboard's shipped size: frontend/dist/assets/*.js (and .css), raw and gzipped, if a build exists. */
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { REPO_ROOT } from './footprint.js';

export interface BundleFile {
  file: string;
  bytes: number;
  gzipBytes: number;
}

export interface BundleResult {
  builtAt: string | null;
  files: BundleFile[];
  jsGzipTotal: number;
}

export function measureBundle(): BundleResult {
  const assets = path.join(REPO_ROOT, 'frontend', 'dist', 'assets');
  if (!fs.existsSync(assets)) return { builtAt: null, files: [], jsGzipTotal: 0 };
  const files: BundleFile[] = [];
  let newest = 0;
  for (const name of fs.readdirSync(assets).sort()) {
    if (!/\.(js|css)$/.test(name)) continue;
    const p = path.join(assets, name);
    const data = fs.readFileSync(p);
    newest = Math.max(newest, fs.statSync(p).mtimeMs);
    files.push({ file: name, bytes: data.length, gzipBytes: zlib.gzipSync(data, { level: 9 }).length });
  }
  return {
    builtAt: newest > 0 ? new Date(newest).toISOString() : null,
    files,
    jsGzipTotal: files.filter((f) => f.file.endsWith('.js')).reduce((s, f) => s + f.gzipBytes, 0),
  };
}
