import { dataDirArgs } from './io.js';

export const storeMigrateUsage = `usage: pullgate store migrate [--data-dir DIR]

Brings the store's schema up to date and exits: run it once with the new version before rolling it
out, so the replicas that start after it find nothing to migrate. The store is PULLGATE_DATABASE_URL
(default: SQLite in DIR, which defaults to PULLGATE_DATA_DIR or ./data). Several runs (or replicas
starting) at once wait for each other: the migrator takes a lock in the database.
Exit 0 when the schema is current, 1 when the store cannot be opened or migrated, 2 on bad usage.
`;

export async function runStoreMigrate(argv: string[]): Promise<number> {
  const args = dataDirArgs(argv, 'store migrate', storeMigrateUsage);
  if ('exit' in args) return args.exit;
  const { openStore } = await import('../store/open.js');
  const { dataDir } = args;
  const url = process.env.PULLGATE_DATABASE_URL;
  try {
    const store = await openStore({ dataDir, databaseUrl: url === '' ? undefined : url, poolSize: 1 });
    process.stdout.write(`the store at ${store.target} is up to date\n`);
    await store.close();
    return 0;
  } catch (err) {
    process.stderr.write(`pullgate store migrate: ${(err as Error).message}\n`);
    return 1;
  }
}
