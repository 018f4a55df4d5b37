import { spawnSync } from 'node:child_process';
import { mkdir, open, rm, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from './proc.js';

export interface Tmpfs {
  dir: string;
  /** Writes a filler file until the file system says ENOSPC; returns the bytes written. */
  fill(): Promise<number>;
  /** Deletes the filler: space returns. */
  free(): Promise<void>;
  /** Bytes still free, as statfs reports them. */
  available(): Promise<number>;
  unmount(): Promise<void>;
}

const FILLER = '.filler';

function isNoSpace(err: unknown): boolean {
  return (err as NodeJS.ErrnoException).code === 'ENOSPC';
}

/**
 * A small tmpfs mounted on `dir` (created if missing), for disk-full tests: a real file system that really runs
 * out of space. Needs root (CI runs as root). Unmounted by `unmount()`, and lazily on process exit as a safety net.
 */
export async function mountTmpfs(dir: string, sizeBytes: number): Promise<Tmpfs> {
  await mkdir(dir, { recursive: true });
  await run('mount', ['-t', 'tmpfs', '-o', `size=${sizeBytes},mode=0755`, 'tmpfs', dir]);
  let mounted = true;
  const onExit = () => {
    if (mounted) spawnSync('umount', ['-l', dir]);
  };
  process.once('exit', onExit);
  const filler = join(dir, FILLER);
  return {
    dir,
    fill: async () => {
      const handle = await open(filler, 'a');
      let written = 0;
      try {
        // Big pieces first, then page-sized ones, so the last partly free page is taken too.
        for (const size of [1024 * 1024, 64 * 1024, 4096, 512, 1]) {
          const piece = Buffer.alloc(size, 0x5a);
          for (;;) {
            try {
              const { bytesWritten } = await handle.write(piece);
              written += bytesWritten;
              if (bytesWritten < size) break;
            } catch (err) {
              if (isNoSpace(err)) break;
              throw err;
            }
          }
        }
      } finally {
        await handle.close();
      }
      return written;
    },
    free: () => rm(filler, { force: true }),
    available: async () => {
      const s = await statfs(dir);
      return s.bavail * s.bsize;
    },
    unmount: async () => {
      if (!mounted) return;
      await run('umount', [dir]).catch(() => run('umount', ['-l', dir]));
      mounted = false;
      process.off('exit', onExit);
    },
  };
}
