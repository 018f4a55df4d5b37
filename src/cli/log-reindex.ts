import { join } from 'node:path';
import { dataDirArgs } from './io.js';

export const logReindexUsage = `usage: pullgate log reindex [--data-dir DIR]

Rebuilds this replica's part of the decision index from its log files (DIR/audit; DIR defaults to
PULLGATE_DATA_DIR or ./data): its rows are dropped and every record in the files is indexed again.
The store is PULLGATE_DATABASE_URL (default: SQLite in DIR); the replica is PULLGATE_REPLICA_ID
(default: the hostname). Safe while the replica runs. Other replicas' rows are not touched.
Exit 0 when done, 1 when the store or the files cannot be read, 2 on bad usage.
`;

export async function runLogReindex(argv: string[]): Promise<number> {
  const args = dataDirArgs(argv, 'log reindex', logReindexUsage);
  if ('exit' in args) return args.exit;
  const [{ loadConfig, ConfigError }, { openStore }, { DecisionIndex }, { AuditIndexer }] = await Promise.all(
    [
      import('../config/config.js'),
      import('../store/open.js'),
      import('../store/decision-index.js'),
      import('../audit/indexer.js'),
    ],
  );
  const { dataDir } = args;
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig({ ...process.env, PULLGATE_DATA_DIR: dataDir });
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`pullgate log reindex: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  let store: Awaited<ReturnType<typeof openStore>>;
  try {
    store = await openStore({ dataDir, databaseUrl: config.databaseUrl, poolSize: 2 });
  } catch (err) {
    process.stderr.write(`pullgate log reindex: ${(err as Error).message}\n`);
    return 1;
  }
  try {
    const indexer = new AuditIndexer({
      index: new DecisionIndex(store.db),
      replica: config.replicaId,
      dir: join(dataDir, 'audit'),
    });
    const head = await indexer.reindex();
    process.stdout.write(
      `reindexed replica ${config.replicaId} from ${join(dataDir, 'audit')} into ${store.target}: up to seq ${head}\n`,
    );
    return 0;
  } catch (err) {
    process.stderr.write(`pullgate log reindex: failed: ${(err as Error).message}\n`);
    return 1;
  } finally {
    await store.close();
  }
}
