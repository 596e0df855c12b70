/**
 * The one file that talks to nftables: commands run in-process through the system's libnftables.so.1
 * (through koffi, ~0.5 ms a listing), or, when the library cannot be loaded, by spawning `nft` (~5 ms).
 * Both take the same text a user would type (`nft -f`): one call is one transaction.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';

export interface NftRunner {
  readonly kind: 'libnftables' | 'nft';
  /** Runs commands (one transaction); returns nft's output (JSON for a listing). Throws with nft's error text. */
  run(commands: string): string;
  close(): void;
}

export class NftError extends Error {
  override name = 'NftError';
}

/** NFT_CTX_OUTPUT_JSON in libnftables.h. */
const OUTPUT_JSON = 1 << 4;
const NFT_CTX_DEFAULT = 0;
const LIBRARY_NAMES = ['libnftables.so.1', 'libnftables.so'];

/** libnftables through koffi; null (and why) when koffi or the library is missing. */
export function openLibnftables(): { runner: NftRunner | null; reason: string | null } {
  let koffi: typeof import('koffi');
  try {
    koffi = createRequire(import.meta.url)('koffi') as typeof import('koffi');
  } catch (err) {
    return { runner: null, reason: `koffi did not load: ${(err as Error).message}` };
  }
  let lib: ReturnType<typeof koffi.load> | null = null;
  let lastError = '';
  for (const name of LIBRARY_NAMES) {
    try {
      lib = koffi.load(name);
      break;
    } catch (err) {
      lastError = (err as Error).message;
    }
  }
  if (lib === null) return { runner: null, reason: `libnftables.so.1 not found (${lastError})` };
  const ctxNew = lib.func('void *nft_ctx_new(uint32_t flags)');
  const ctxFree = lib.func('void nft_ctx_free(void *ctx)');
  const setOutputFlags = lib.func('void nft_ctx_output_set_flags(void *ctx, uint32_t flags)');
  const bufferOutput = lib.func('int nft_ctx_buffer_output(void *ctx)');
  const bufferError = lib.func('int nft_ctx_buffer_error(void *ctx)');
  const getOutput = lib.func('const char *nft_ctx_get_output_buffer(void *ctx)');
  const getError = lib.func('const char *nft_ctx_get_error_buffer(void *ctx)');
  const runCmd = lib.func('int nft_run_cmd_from_buffer(void *ctx, const char *buf)');

  const ctx = ctxNew(NFT_CTX_DEFAULT) as unknown;
  if (ctx === null) return { runner: null, reason: 'nft_ctx_new failed' };
  setOutputFlags(ctx, OUTPUT_JSON);
  bufferOutput(ctx);
  bufferError(ctx);
  let closed = false;
  return {
    reason: null,
    runner: {
      kind: 'libnftables',
      run(commands) {
        if (closed) throw new NftError('libnftables context closed');
        const rc = runCmd(ctx, commands) as number;
        // Reading a buffer resets it: read both every time.
        const out = (getOutput(ctx) as string | null) ?? '';
        const err = (getError(ctx) as string | null) ?? '';
        if (rc !== 0) throw new NftError(err.trim() || `nft failed (${rc})`);
        return out;
      },
      close() {
        if (closed) return;
        closed = true;
        ctxFree(ctx);
      },
    },
  };
}

/**
 * `nft -j -f FILE` as a child process: the fallback. The commands go through a private temp file: nft opens
 * /dev/stdin by path, which fails on the socket Node gives a child as its stdin.
 */
export function spawnNftRunner(nftPath = 'nft'): NftRunner {
  return {
    kind: 'nft',
    run(commands) {
      const dir = mkdtempSync(path.join(tmpdir(), 'netpulse-nft-'));
      try {
        const file = path.join(dir, 'commands.nft');
        writeFileSync(file, commands, { mode: 0o600 });
        return execFileSync(nftPath, ['-j', '-f', file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000, maxBuffer: 64 * 1024 * 1024 });
      } catch (err) {
        const e = err as { stderr?: string; message: string };
        throw new NftError((e.stderr ?? '').trim() || e.message);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
    close() {},
  };
}

/** Whether `nft` can be spawned at all (found and runnable). */
export function nftBinaryWorks(nftPath = 'nft'): boolean {
  try {
    execFileSync(nftPath, ['--version'], { stdio: 'ignore', timeout: 5000 });
    return true;
  } catch {
    return false;
  }
}
