import { generateKeyPairSync } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { signCheckpoint } from '../../../src/audit/checkpoint.js';
import { readAnchor } from '../../../src/audit/files.js';
import {
  AuditLog,
  canonicalJson,
  computeHash,
  GENESIS_HASH,
  logFileName,
  verifyLogDir,
} from '../../../src/audit/index.js';
import { makeTempDir } from '../../helpers/tmp.js';
import { decisionInput } from '../../unit/audit/sample-records.js';
import { rewriteAndRechain } from './checkpoint-setup.js';

// Checkpoints keep working with retention (the chain starts at an anchor) and with records of the v1 format.
const origin = 'pullgate.test/retention/decisions';

async function writeSigned(dir: string, count: number, options: { retentionFiles?: number } = {}) {
  const keys = generateKeyPairSync('ed25519');
  const log = await AuditLog.open({
    dir,
    maxFileBytes: 2048,
    ...options,
    checkpoints: { origin, key: keys.privateKey },
  });
  const notes: string[] = [];
  for (let i = 1; i <= count; i++) {
    await log.append(decisionInput({ requestId: `r${i}`, decision: i % 7 === 0 ? 'deny' : 'allow' }));
    if (i === 5) notes.push(signCheckpoint({ origin, ...sizeAndHash(log) }, keys.privateKey));
  }
  await log.close();
  return { keys, early: notes[0] ?? '' };
}

function sizeAndHash(log: AuditLog) {
  const head = log.stats().head;
  return { size: head.seq, hash: head.hash };
}

describe('checkpoints with retention and v1 records', () => {
  it('verify after retention deleted old files; a checkpoint older than the anchor is noted, not failed', async () => {
    await using tmp = await makeTempDir('checkpoint-retention');
    const { keys, early } = await writeSigned(tmp.path, 40, { retentionFiles: 3 });
    const anchor = await readAnchor(tmp.path);
    expect(anchor?.seq).toBeGreaterThan(5);

    const report = await verifyLogDir(tmp.path, {
      publicKey: keys.publicKey,
      checkpoints: [{ source: 'siem/early', content: early }],
    });
    expect(report).toMatchObject({ ok: true, head: { seq: 40 } });
    expect(report.checkpoints).toEqual([
      expect.objectContaining({ source: 'siem/early', size: 5, status: 'before-anchor', signed: true }),
      expect.objectContaining({ size: 40, status: 'matched', signed: true }),
    ]);
  });

  it('catch a rewrite after the anchor', async () => {
    await using tmp = await makeTempDir('checkpoint-retention-rewrite');
    const { keys } = await writeSigned(tmp.path, 40, { retentionFiles: 3 });
    await rewriteAndRechain(
      tmp.path,
      (r) => r.decision === 'deny',
      (r) => ({ ...r, decision: 'allow' }),
    );
    expect(await verifyLogDir(tmp.path, { publicKey: keys.publicKey })).toMatchObject({
      ok: false,
      problem: 'rewritten',
      seq: 40,
    });
  });

  it('verify a log that begins with v1 records against a signed checkpoint', async () => {
    await using tmp = await makeTempDir('checkpoint-v1');
    const time = '2024-01-01T00:00:00.000Z';
    const lines: string[] = [];
    let prev = GENESIS_HASH;
    for (let seq = 1; seq <= 3; seq++) {
      const unsealed = {
        v: 1,
        type: 'review',
        seq,
        time,
        prev,
        actor: 'alice',
        action: 'approve',
        repository: 'r',
      };
      const hash = computeHash(unsealed);
      lines.push(canonicalJson({ ...unsealed, hash }));
      prev = hash;
    }
    await writeFile(join(tmp.path, logFileName(1)), `${lines.join('\n')}\n`);
    const keys = generateKeyPairSync('ed25519');
    const log = await AuditLog.open({ dir: tmp.path, checkpoints: { origin, key: keys.privateKey } });
    await log.append(decisionInput());
    await log.close();

    expect(await verifyLogDir(tmp.path, { publicKey: keys.publicKey })).toMatchObject({
      ok: true,
      head: { seq: 4 },
      checkpoints: [expect.objectContaining({ size: 4, status: 'matched' })],
    });
  });
});
