import type { CounterSource } from './counter-source.js';
import { createLinuxSource } from './linux-source.js';
import { createSysinfoSource } from './sysinfo-source.js';

export interface CounterSourceConfig {
  /** Where procfs is mounted (Linux only). */
  procRoot: string;
  /** Where sysfs is mounted (Linux only). */
  sysRoot: string;
}

/** The Linux source (/proc, /sys) on Linux; systeminformation on every other platform. */
export function createCounterSource(
  config: CounterSourceConfig,
  platform: NodeJS.Platform = process.platform,
): CounterSource {
  return platform === 'linux'
    ? createLinuxSource({ procRoot: config.procRoot, sysRoot: config.sysRoot })
    : createSysinfoSource();
}
