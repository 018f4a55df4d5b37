import { mkdtempSync, rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { atProcessExit } from './proc.js';

export interface TempDir {
  readonly path: string;
  cleanup(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

const PREFIX = 'pullgate-test-';

/** A fresh directory under os.tmpdir(); `cleanup()` (or `await using`) removes it. */
export async function makeTempDir(label = 'tmp'): Promise<TempDir> {
  const path = await mkdtemp(join(tmpdir(), `${PREFIX}${label}-`));
  undisposed.add(path);
  const cleanup = async () => {
    undisposed.delete(path);
    await rm(path, { recursive: true, force: true, maxRetries: 3 });
  };
  return { path, cleanup, [Symbol.asyncDispose]: cleanup };
}

// Directories whose owner never called cleanup() (a test that crashed before afterAll).
const undisposed = new Set<string>();
atProcessExit(() => {
  for (const dir of undisposed) rmSync(dir, { recursive: true, force: true });
});

let processDir: string | undefined;

/**
 * One directory per test process for content that is expensive to make and shared by every test
 * file in the process (the built image layout, the random layer); removed when the process exits.
 */
export function processTempDir(): string {
  if (processDir === undefined) {
    const dir = mkdtempSync(join(tmpdir(), `${PREFIX}proc${process.pid}-`));
    processDir = dir;
    atProcessExit(() => rmSync(dir, { recursive: true, force: true }));
  }
  return processDir;
}
