import fp from 'fastify-plugin';
import type { Config } from '../config/config.js';
import { openStore, type Store } from '../store/index.js';
import { closeWithApp } from './on-close.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Tag history, alerts, the outbox, sessions, tokens and the decision index: SQLite, or PostgreSQL shared by replicas. */
    store: Store;
  }
}

/** Opens the store (migrating it) and closes it last: everything registered after it closes first. */
export const storePlugin = fp<{ config: Config }>(
  async (app, { config }) => {
    const store = await openStore({ dataDir: config.dataDir, databaseUrl: config.databaseUrl });
    app.decorate('store', store);
    closeWithApp(app, 'store', () => store.close());
  },
  { name: 'store' },
);
