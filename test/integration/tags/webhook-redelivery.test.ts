import { createServer, type Server } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Notifier } from '../../../src/notify/notifier.js';
import type { Receiver } from '../../../src/notify/receivers.js';
import { openStore, type Store } from '../../../src/store/open.js';
import { Outbox } from '../../../src/store/outbox.js';
import { TagHistory } from '../../../src/tags/history.js';
import { getFreePort } from '../../helpers/ports.js';
import { waitUntil } from '../../helpers/proc.js';
import { makeTempDir, type TempDir } from '../../helpers/tmp.js';
import { describeFrom, digest, image, observation, offlineRoute } from './fixtures.js';

interface Received {
  path: string;
  key: string | undefined;
  body: { alert?: { id: number }; text?: string; blocks?: unknown[] };
}

function startReceiver(port: number, received: Received[]): Promise<Server> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const key = req.headers['idempotency-key'];
      received.push({
        path: req.url ?? '',
        key: Array.isArray(key) ? key[0] : key,
        body: JSON.parse(Buffer.concat(chunks).toString()),
      });
      res.writeHead(204).end();
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

function stopReceiver(server: Server | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (server === undefined) return resolve();
    server.closeAllConnections();
    server.close(() => resolve());
  });
}

describe('webhook delivery from the outbox', () => {
  let dir: TempDir;
  let store: Store | undefined;
  let notifier: Notifier | undefined;
  let server: Server | undefined;

  beforeAll(async () => {
    dir = await makeTempDir('webhook');
  });
  afterAll(async () => {
    await notifier?.stop();
    await stopReceiver(server);
    await store?.close();
    await dir?.cleanup();
  });

  it('delivers every alert exactly once per receiver after the receiver comes back, across a notifier restart', async () => {
    const port = await getFreePort();
    const receivers: Receiver[] = [
      { url: `http://127.0.0.1:${port}/json`, format: 'json' },
      { url: `http://127.0.0.1:${port}/slack`, format: 'slack' },
    ];
    const images = new Map(Array.from({ length: 12 }, (_, i) => [digest(100 + i), image(digest(100 + i))]));
    const route = offlineRoute('library/busybox');
    const signal = AbortSignal.timeout(30_000);
    const notifierOptions = { receivers, pollMs: 25, backoff: { baseMs: 20, maxMs: 200 }, timeoutMs: 2_000 };

    const mutate = async (history: TagHistory, tag: string, n: number) => {
      await history.observe(observation(route, tag, digest(n)), signal);
      const moved = await history.observe(observation(route, tag, digest(n + 1)), signal);
      return Number(moved.alertId);
    };

    store = await openStore({ dataDir: dir.path });
    const firstStore = store;
    let history = new TagHistory({
      store,
      describe: describeFrom(images),
      receivers,
      onAlertOpened: () => notifier?.wake(),
    });
    notifier = new Notifier({ store, ...notifierOptions });
    notifier.start();
    const ids = [await mutate(history, '1.36.0', 100), await mutate(history, '1.36.1', 102)];

    // The receiver is down (nothing listens on the port): attempts fail and are rescheduled.
    await waitUntil(async () => (await new Outbox(firstStore.db).all()).every((r) => r.attempts >= 2), {
      timeoutMs: 10_000,
      what: 'failed attempts',
    });

    const received: Received[] = [];
    server = await startReceiver(port, received);
    await waitUntil(() => received.length >= 4, { timeoutMs: 10_000, what: 'deliveries' });

    // Restart: the receiver goes down again, an alert is raised, the notifier and store are closed and reopened.
    await stopReceiver(server);
    server = undefined;
    ids.push(await mutate(history, '1.36.2', 104));
    await sleep(100);
    await notifier.stop();
    await store.close();

    store = await openStore({ dataDir: dir.path });
    history = new TagHistory({ store, describe: describeFrom(images), receivers });
    expect((await new Outbox(store.db).pending()).length).toBe(2);
    notifier = new Notifier({ store, ...notifierOptions });
    server = await startReceiver(port, received);
    notifier.start();
    await waitUntil(() => received.length >= 6, { timeoutMs: 10_000, what: 'deliveries after restart' });
    await sleep(300);

    const json = received.filter((r) => r.path === '/json').map((r) => r.body.alert?.id);
    expect(json.sort()).toEqual([...ids].sort());
    const slack = received.filter((r) => r.path === '/slack');
    expect(slack).toHaveLength(3);
    for (const s of slack) {
      expect(s.body.text).toContain('library/busybox');
      expect(s.body.blocks?.length).toBeGreaterThan(0);
    }
    expect(new Set(received.map((r) => r.key)).size).toBe(6);
    expect(await new Outbox(store.db).pending()).toEqual([]);
  });
});
