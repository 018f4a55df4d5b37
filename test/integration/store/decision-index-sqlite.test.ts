import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditIndexer } from '../../../src/audit/indexer.js';
import type { DecisionInput } from '../../../src/audit/record.js';
import { AuditLog } from '../../../src/audit/writer.js';
import { DecisionIndex } from '../../../src/store/decision-index.js';
import { openStore, type Store } from '../../../src/store/open.js';
import { makeTempDir, type TempDir } from '../../helpers/tmp.js';

// The decision index on the one-machine default (SQLite), fed by two real logs that share one clock, so records of
// different replicas carry the same time and only (replica, seq) orders them.
const FIXED = new Date('2026-01-01T00:00:00.000Z');
const DIGEST_A = `sha256:${'a'.repeat(64)}`;
const DIGEST_B = `sha256:${'b'.repeat(64)}`;

function decision(n: number, overrides: Partial<DecisionInput> = {}): DecisionInput {
  return {
    type: 'decision',
    requestId: `req-${n}`,
    client: { address: '10.0.0.1', user: n % 2 === 0 ? 'ci-bot' : undefined },
    method: 'GET',
    upstream: 'https://registry.test',
    repository: n % 3 === 0 ? 'library/nginx' : 'library/app',
    reference: 'latest',
    digest: n % 2 === 0 ? DIGEST_A : DIGEST_B,
    decision: n % 4 === 0 ? 'deny' : 'allow',
    decisionSource: 'fresh',
    findings: n % 4 === 0 ? [{ rule: 'run-as-root', message: 'runs as root' }] : [],
    policy: { name: 'default', version: '1' },
    source: 'upstream',
    durationMs: 1,
    ...overrides,
  };
}

let tmp: TempDir;
let store: Store;
let index: DecisionIndex;

beforeAll(async () => {
  tmp = await makeTempDir('decision-index');
  store = await openStore({ dataDir: tmp.path });
  index = new DecisionIndex(store.db);
  for (const replica of ['r1', 'r2']) {
    const dir = join(tmp.path, replica, 'audit');
    const indexer = new AuditIndexer({ index, replica, dir, batchMs: 5 });
    const log = await AuditLog.open({ dir, now: () => FIXED, onAppended: indexer.enqueue });
    await indexer.start();
    for (let n = 1; n <= 12; n++) await log.append(decision(n));
    await log.close();
    await indexer.close();
  }
});

afterAll(async () => {
  await store?.close();
  await tmp?.cleanup();
});

describe('the decision index on SQLite', () => {
  it('pages through records of equal time newest first by (replica, seq), each once', async () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await index.queryDecisions({ limit: 5, ...(cursor === undefined ? {} : { cursor }) });
      seen.push(...page.records.map((r) => `${r.replica}/${r.seq}`));
      cursor = page.nextCursor;
      pages++;
    } while (cursor !== undefined);
    expect(pages).toBe(5);
    const expected = ['r2', 'r1'].flatMap((r) => Array.from({ length: 12 }, (_, i) => `${r}/${12 - i}`));
    expect(seen).toEqual(expected);
  });

  it('applies every filter the file query has', async () => {
    const count = async (f: Parameters<DecisionIndex['queryDecisions']>[0]) =>
      (await index.queryDecisions({ limit: 1000, ...f })).records.length;
    expect(await count({ decision: 'deny' })).toBe(6);
    expect(await count({ rule: 'run-as-root' })).toBe(6);
    expect(await count({ repository: 'library/nginx' })).toBe(8);
    expect(await count({ repository: 'library/nginx', decision: 'deny' })).toBe(2);
    expect(await count({ digest: DIGEST_A })).toBe(12);
    expect(await count({ client: 'ci-bot' })).toBe(12);
    expect(await count({ client: '10.0.0.1' })).toBe(24);
    expect(await count({ since: '2026-01-01T00:00:00.001Z' })).toBe(0);
    expect(await count({ until: '2026-01-01T00:00:00.001Z' })).toBe(24);
    // A LIKE wildcard in a filter value is a character to match, not a pattern.
    expect(await count({ digest: 'sha256:%' })).toBe(0);
    expect(await count({ rule: '%' })).toBe(0);
  });

  it('refuses a cursor it did not issue', async () => {
    await expect(index.queryDecisions({ cursor: 'bm90LWEtY3Vyc29y' })).rejects.toThrow(/invalid cursor/);
  });

  it('indexes at start the records after its highest seq, and a reindex rebuilds one replica', async () => {
    const dir = join(tmp.path, 'r1', 'audit');
    await store.db.deleteFrom('decision_index').where('replica', '=', 'r1').where('seq', '>', 7).execute();
    expect(await index.maxSeq('r1')).toBe(7);
    const indexer = new AuditIndexer({ index, replica: 'r1', dir });
    await indexer.start();
    expect(await index.maxSeq('r1')).toBe(12);
    await store.db.deleteFrom('decision_index').where('replica', '=', 'r1').where('seq', '<', 4).execute();
    expect(await indexer.reindex()).toBe(12);
    const r1 = (await index.queryDecisions({ limit: 1000 })).records.filter((r) => r.replica === 'r1');
    expect(r1.map((r) => r.seq)).toEqual(Array.from({ length: 12 }, (_, i) => 12 - i));
    expect(await index.maxSeq('r2')).toBe(12);
  });

  it('loses no record when more arrive at once than its queue holds (they are read back from the files)', async () => {
    const dir = join(tmp.path, 'r3', 'audit');
    const indexer = new AuditIndexer({ index, replica: 'r3', dir, batchMs: 5, maxQueue: 3 });
    const log = await AuditLog.open({ dir, now: () => FIXED, onAppended: indexer.enqueue });
    await indexer.start();
    // Ten records in one write overflow a queue of three: the queue is dropped and the next pass reads the files.
    await Promise.all(Array.from({ length: 10 }, (_, i) => log.append(decision(i + 1))));
    await indexer.flush();
    expect(await index.maxSeq('r3')).toBe(10);
    await log.close();
    await indexer.close();
  });
});
