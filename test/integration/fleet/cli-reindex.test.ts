import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AuditLog } from '../../../src/audit/writer.js';
import { DecisionIndex } from '../../../src/store/decision-index.js';
import { openStore } from '../../../src/store/open.js';
import { run } from '../../helpers/proc.js';
import { makeTempDir } from '../../helpers/tmp.js';

// `pullgate store migrate` then `pullgate log reindex` on a data dir whose log holds records the index never saw
// (SQLite, the one-machine default): afterwards the index holds each record once, under this replica's id.
const cli = (args: string[], env: Record<string, string>) =>
  run(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], {
    env: { ...process.env, PULLGATE_DATABASE_URL: '', ...env },
    allowFailure: true,
    timeoutMs: 60_000,
  });

describe('pullgate log reindex', () => {
  it('indexes every record of the replica log files into a freshly migrated store', async () => {
    await using tmp = await makeTempDir('reindex');
    const log = await AuditLog.open({ dir: join(tmp.path, 'audit') });
    for (let i = 0; i < 7; i++) {
      await log.append({
        type: 'policy-load',
        trigger: 'start',
        outcome: 'loaded',
        policy: { name: 'policies', version: `v${i}` },
        source: '/policies',
      });
    }
    await log.close();

    const migrated = await cli(['store', 'migrate', '--data-dir', tmp.path], {});
    expect(migrated.stderr).toBe('');
    expect(migrated.code).toBe(0);
    const env = { PULLGATE_REPLICA_ID: 'replica-x' };
    for (let pass = 0; pass < 2; pass++) {
      const out = await cli(['log', 'reindex', '--data-dir', tmp.path], env);
      expect(out.stdout).toMatch(/reindexed replica replica-x .* up to seq 7/);
      expect(out.code).toBe(0);
    }

    const store = await openStore({ dataDir: tmp.path });
    try {
      const page = await new DecisionIndex(store.db).query({ limit: 100 });
      expect(page.records.map((r) => [r.replica, r.seq])).toEqual(
        Array.from({ length: 7 }, (_, i) => ['replica-x', 7 - i]),
      );
    } finally {
      await store.close();
    }
  });
});
