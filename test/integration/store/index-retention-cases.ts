import { join } from 'node:path';
import { expect } from 'vitest';
import { readAnchor } from '../../../src/audit/files.js';
import { AuditIndexer } from '../../../src/audit/indexer.js';
import { AuditLog } from '../../../src/audit/writer.js';
import { DecisionIndex } from '../../../src/store/decision-index.js';
import type { Store } from '../../../src/store/open.js';
import { decisionInput } from '../../unit/audit/sample-records.js';
import { allSeqs } from '../audit/log-dir.js';

// The same cases on SQLite and PostgreSQL (their own test files): the decision index never holds rows for records
// the log's retention deleted, so it does not outgrow the log.

/** Small files so that a few dozen records rotate many times. */
const MAX_FILE_BYTES = 2048;

async function indexedSeqs(store: Store, replica: string): Promise<number[]> {
  const rows = await store.db
    .selectFrom('decision_index')
    .select('seq')
    .where('replica', '=', replica)
    .orderBy('seq')
    .execute();
  return rows.map((r) => Number(r.seq));
}

/** While records arrive, each retention pass drops the rows of the files it deleted. */
export async function prunesAsRetentionDeletes(store: Store, root: string): Promise<void> {
  const replica = 'pruned-live';
  const dir = join(root, replica, 'audit');
  const indexer = new AuditIndexer({ index: new DecisionIndex(store.db), replica, dir, batchMs: 5 });
  const log = await AuditLog.open({
    dir,
    maxFileBytes: MAX_FILE_BYTES,
    retentionFiles: 2,
    onAppended: indexer.enqueue,
    onPruned: indexer.prune,
  });
  await indexer.start();
  for (let i = 1; i <= 60; i++) await log.append(decisionInput({ requestId: `r${i}` }));
  await log.close();
  await indexer.close();

  const anchor = await readAnchor(dir);
  expect(anchor?.seq).toBeGreaterThan(0);
  const kept = await allSeqs(dir);
  expect(kept[0]).toBe((anchor?.seq ?? 0) + 1);
  expect(kept[kept.length - 1]).toBe(60);
  expect(await indexedSeqs(store, replica)).toEqual(kept);
}

/** Retention that ran while no indexer listened (at the log's open, before a crash) is caught up at start. */
export async function prunesAtStart(store: Store, root: string): Promise<void> {
  const replica = 'pruned-at-start';
  const dir = join(root, replica, 'audit');
  const index = new DecisionIndex(store.db);
  const first = new AuditIndexer({ index, replica, dir, batchMs: 5 });
  const log = await AuditLog.open({ dir, maxFileBytes: MAX_FILE_BYTES, onAppended: first.enqueue });
  await first.start();
  for (let i = 1; i <= 30; i++) await log.append(decisionInput({ requestId: `r${i}` }));
  await log.close();
  await first.close();
  expect(await indexedSeqs(store, replica)).toHaveLength(30);

  // The server opens its log before it starts the indexer: a retention pass at open has nobody to tell.
  const reopened = await AuditLog.open({ dir, maxFileBytes: MAX_FILE_BYTES, retentionFiles: 1 });
  const kept = await allSeqs(dir);
  expect(kept.length).toBeLessThan(30);
  expect(await indexedSeqs(store, replica)).toHaveLength(30);

  const second = new AuditIndexer({ index, replica, dir, batchMs: 5 });
  await second.start();
  expect(await indexedSeqs(store, replica)).toEqual(kept);
  await reopened.close();
  await second.close();
}
