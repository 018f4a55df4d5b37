import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { AuditLog, verifyLogDir } from '../../../src/audit/index.js';
import { makeTempDir } from '../../helpers/tmp.js';
import { allSeqs, fileNames } from './log-dir.js';

const writer = fileURLToPath(new URL('./burst-writer.ts', import.meta.url));
const root = fileURLToPath(new URL('../../../', import.meta.url));

/** Runs the burst writer until it has acknowledged `atLeast` records, then kill -9s it. */
async function burstAndKill(dir: string, atLeast: number): Promise<number[]> {
  const child = spawn(process.execPath, ['--import', 'tsx', writer, dir], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  const acked: number[] = [];
  child.stderr.on('data', (c: Buffer) => {
    err += c.toString('utf8');
  });
  const exited = new Promise<NodeJS.Signals | null>((resolve) =>
    child.once('close', (_code, signal) => resolve(signal)),
  );
  child.stdout.on('data', (c: Buffer) => {
    out += c.toString('utf8');
    const complete = out.lastIndexOf('\n');
    for (const line of out.slice(0, complete + 1).split('\n')) {
      const m = /^ack (\d+)$/.exec(line);
      if (m?.[1] !== undefined) acked.push(Number(m[1]));
    }
    out = out.slice(complete + 1);
    if (acked.length >= atLeast) child.kill('SIGKILL');
  });
  const signal = await Promise.race([
    exited,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`writer stalled: ${err}`)), 45_000)),
  ]);
  expect(signal, err).toBe('SIGKILL');
  return acked;
}

describe('durability under kill -9', () => {
  it('keeps every acknowledged record, and the log verifies after the next start', async () => {
    await using tmp = await makeTempDir('audit-kill9');
    const acked = await burstAndKill(tmp.path, 1500);
    expect(acked.length).toBeGreaterThanOrEqual(1500);
    expect((await fileNames(tmp.path)).length).toBeGreaterThan(2);

    // Offline, before any restart: intact except possibly an incomplete last line.
    const before = await verifyLogDir(tmp.path);
    expect(before.ok, JSON.stringify(before)).toBe(true);

    const log = await AuditLog.open({ dir: tmp.path, maxFileBytes: 16 * 1024 });
    await log.close();
    const after = await verifyLogDir(tmp.path);
    expect(after.ok, JSON.stringify(after)).toBe(true);
    expect(after.ok && after.tornTail).toBeFalsy();

    const onDisk = new Set(await allSeqs(tmp.path));
    const missing = acked.filter((seq) => !onDisk.has(seq));
    expect(missing).toEqual([]);
  });
});
