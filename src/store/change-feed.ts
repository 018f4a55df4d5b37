import { z } from 'zod';

/** A review changed what a tag serves: every replica drops what it remembers about that tag. */
export const tagChangeSchema = z.strictObject({
  upstream: z.string().min(1).max(500),
  repository: z.string().min(1).max(500),
  tag: z.string().min(1).max(200),
});
export type TagChange = z.infer<typeof tagChangeSchema>;

export interface ChangeFeed {
  /** Tells every replica (this one included) of a change; resolves once the database took the notification. */
  publish(change: TagChange): Promise<void>;
  close(): Promise<void>;
}

export interface ChangeFeedOptions {
  /** PostgreSQL URL; without one (SQLite: one machine) changes are delivered in this process only. */
  databaseUrl: string | undefined;
  onChange: (change: TagChange) => void;
  onError?: (err: unknown, context: string) => void;
  /** Wait before listening again after the connection dropped. Default 1 s. */
  reconnectMs?: number;
}

/** The PostgreSQL channel; notifications are at most 8000 bytes, a tag change is far less. */
const CHANNEL = 'pullgate_tag_changes';

/**
 * Changes made through one replica reach the others at once (PostgreSQL LISTEN/NOTIFY), not when an in-memory window
 * runs out. The feed is an optimisation of freshness, never the record: the store is always asked for a move or a
 * pin, and the windows it clears are short. While the listening connection is down (the database restarting) the
 * windows alone bound staleness; the feed listens again by itself.
 */
export async function openChangeFeed(options: ChangeFeedOptions): Promise<ChangeFeed> {
  const deliver = (payload: string) => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(payload);
    } catch {
      parsed = undefined;
    }
    const change = tagChangeSchema.safeParse(parsed);
    if (change.success) options.onChange(change.data);
    else options.onError?.(new Error('unreadable tag change notification'), 'failed to read a tag change');
  };
  const url = options.databaseUrl;
  if (url === undefined || url === '') {
    return {
      publish: async (change) => deliver(JSON.stringify(change)),
      close: async () => undefined,
    };
  }

  const { default: pg } = await import('pg');
  const reconnectMs = options.reconnectMs ?? 1000;
  let closed = false;
  let listener: InstanceType<typeof pg.Client> | undefined;
  let timer: NodeJS.Timeout | undefined;
  // One short-lived pool for publishing: the listening client is busy waiting.
  const publisher = new pg.Pool({ connectionString: url, max: 1, connectionTimeoutMillis: 5_000 });
  publisher.on('error', () => undefined);
  // As the store's pool (open.ts): a client checked out when the server goes away must not crash the process.
  publisher.on('connect', (client) => client.on('error', () => undefined));

  const listen = async (): Promise<void> => {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
    client.on('notification', (msg) => {
      if (msg.channel === CHANNEL && msg.payload !== undefined) deliver(msg.payload);
    });
    const retry = (err: unknown) => {
      if (listener === client) listener = undefined;
      void client.end().catch(() => undefined);
      if (closed) return;
      options.onError?.(err, 'failed to listen for tag changes');
      if (timer === undefined) {
        timer = setTimeout(() => {
          timer = undefined;
          void listen();
        }, reconnectMs);
        timer.unref();
      }
    };
    client.on('error', retry);
    client.on('end', () => {
      if (listener === client) retry(new Error('the tag change connection ended'));
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANNEL}`);
      if (closed) {
        await client.end();
        return;
      }
      listener = client;
    } catch (err) {
      retry(err);
    }
  };
  await listen();

  return {
    async publish(change) {
      await publisher.query('select pg_notify($1, $2)', [
        CHANNEL,
        JSON.stringify(tagChangeSchema.parse(change)),
      ]);
    },
    async close() {
      closed = true;
      if (timer !== undefined) clearTimeout(timer);
      const client = listener;
      listener = undefined;
      await client?.end().catch(() => undefined);
      await publisher.end().catch(() => undefined);
    },
  };
}
