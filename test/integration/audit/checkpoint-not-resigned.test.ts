import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AuditLog, AuditLogCorruptError } from '../../../src/audit/index.js';
import { makeTempDir } from '../../helpers/tmp.js';
import { decisionInput } from '../../unit/audit/sample-records.js';
import { checkpointSize, readCheckpoint, rewriteAndRechain } from './checkpoint-setup.js';
import { fileNames, readLines, writeLines } from './log-dir.js';

// At open the log checks its files against the checkpoint beside them before it signs a new one: a log that lost
// records or was rewritten while pullgate was stopped is not signed over (which would hide the damage).
const key = generateKeyPairSync('ed25519').privateKey;
const checkpoints = { origin: 'pullgate.test/resign/decisions', key };

async function writeLog(dir: string, count: number, withCheckpoints = true): Promise<void> {
  const log = await AuditLog.open({ dir, maxFileBytes: 2048, ...(withCheckpoints ? { checkpoints } : {}) });
  for (let i = 1; i <= count; i++) {
    await log.append(decisionInput({ requestId: `r${i}`, decision: i === 4 ? 'deny' : 'allow' }));
  }
  await log.close();
}

describe('opening a log whose checkpoint disagrees with its files', () => {
  it('refuses when records were cut after the checkpoint, and leaves the checkpoint as it was', async () => {
    await using tmp = await makeTempDir('resign-truncated');
    await writeLog(tmp.path, 12);
    const before = await readCheckpoint(tmp.path);
    const names = await fileNames(tmp.path);
    const newest = names[names.length - 1] ?? '';
    await writeLines(tmp.path, newest, [...(await readLines(tmp.path, newest)).slice(0, -3), '']);

    const open = AuditLog.open({ dir: tmp.path, checkpoints });
    await expect(open).rejects.toThrow(AuditLogCorruptError);
    await expect(open).rejects.toThrow(/says 12 records were written: records were removed/);
    expect(await readCheckpoint(tmp.path)).toBe(before);
  });

  it('refuses when the chain was rewritten with recomputed hashes', async () => {
    await using tmp = await makeTempDir('resign-rewritten');
    await writeLog(tmp.path, 12);
    await rewriteAndRechain(
      tmp.path,
      (r) => r.decision === 'deny',
      (r) => ({ ...r, decision: 'allow' }),
    );
    await expect(AuditLog.open({ dir: tmp.path, checkpoints })).rejects.toThrow(/the log was rewritten/);
  });

  it('opens when records follow the checkpoint (the last second before a crash) and checkpoints them', async () => {
    await using tmp = await makeTempDir('resign-ahead');
    await writeLog(tmp.path, 6);
    // Written without checkpoints: the checkpoint file stays at record 6, as after a kill -9.
    await writeLog(tmp.path, 3, false);
    expect(checkpointSize(await readCheckpoint(tmp.path))).toBe(6);
    const log = await AuditLog.open({ dir: tmp.path, checkpoints });
    await log.close();
    expect(checkpointSize(await readCheckpoint(tmp.path))).toBe(9);
  });
});
