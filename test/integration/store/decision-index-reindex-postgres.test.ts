import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditIndexer } from '../../../src/audit/indexer.js';
import { AuditLog } from '../../../src/audit/writer.js';
import { DecisionIndex } from '../../../src/store/decision-index.js';
import { openStore, type Store } from '../../../src/store/open.js';
import { type Postgres, startPostgres } from '../../helpers/postgres.js';
import { makeTempDir, type TempDir } from '../../helpers/tmp.js';

// After a bulk reindex the planner needs statistics for decision_index, or it reads and sorts every match of a
// filtered query instead of walking the index from the newest (bench §10). A small table like this one is below
// autovacuum's analyze threshold (50 rows), so only the reindex itself can have analyzed it.
describe('pullgate log reindex on PostgreSQL', () => {
  let postgres: Postgres;
  let tmp: TempDir;
  let store: Store;
  beforeAll(async () => {
    postgres = await startPostgres();
    tmp = await makeTempDir('reindex-pg');
    store = await openStore({ dataDir: tmp.path, databaseUrl: await postgres.createDatabase() });
  });
  afterAll(async () => {
    await store?.close();
    await postgres?.stop();
    await tmp?.cleanup();
  });

  it('leaves the planner statistics for the repository and decision columns', async () => {
    const dir = join(tmp.path, 'audit');
    const log = await AuditLog.open({ dir });
    for (let n = 0; n < 20; n++) {
      await log.append({
        type: 'decision',
        requestId: `req-${n}`,
        client: { address: '10.0.0.1' },
        method: 'GET',
        upstream: 'https://registry.test',
        repository: n % 2 === 0 ? 'library/app' : 'library/nginx',
        reference: 'latest',
        digest: `sha256:${'a'.repeat(64)}`,
        decision: n % 4 === 0 ? 'deny' : 'allow',
        decisionSource: 'fresh',
        findings: [],
        policy: { name: 'default', version: '1' },
        source: 'upstream',
        durationMs: 1,
      });
    }
    await log.close();
    expect(await new AuditIndexer({ index: new DecisionIndex(store.db), replica: 'r1', dir }).reindex()).toBe(
      20,
    );
    const stats = await sql<{ attname: string }>`
      select attname from pg_stats where schemaname = current_schema() and tablename = 'decision_index'
        and attname in ('repository', 'decision') order by attname`.execute(store.db);
    expect(stats.rows.map((r) => r.attname)).toEqual(['decision', 'repository']);
  });
});
