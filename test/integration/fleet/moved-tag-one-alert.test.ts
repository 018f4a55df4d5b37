import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ImageLayout, MEDIA_TYPE, pushImage, testImages } from '../../helpers/images.js';
import { type Nginx, startNginx } from '../../helpers/nginx.js';
import { type Postgres, startPostgres } from '../../helpers/postgres.js';
import { type PullgateProcess, startReplicas } from '../../helpers/pullgate-process.js';
import { type Registry, startRegistry } from '../../helpers/registry.js';
import { makeTempDir, type TempDir } from '../../helpers/tmp.js';

// Three `pullgate serve` processes on one real PostgreSQL behind a real nginx: a tag that moved upstream, pulled many
// times at once through every replica and the balancer, is one mutation: one alert, one webhook delivery per
// receiver, whichever replicas saw the move and however many at the same moment.
const token = 'moved-tag-fleet-token';
const REPO = 'library/app';
const TAG = '9.4.2';

interface Receiver {
  server: Server;
  url: string;
  /** `idempotency-key` of every `alert.opened` delivery received. */
  opened: string[];
}

async function startReceiver(): Promise<Receiver> {
  const opened: string[] = [];
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (req.headers['x-pullgate-event'] === 'alert.opened') {
        opened.push(String(req.headers['idempotency-key']));
      }
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${port}/hook`, opened };
}

let upstream: Registry;
let layout: ImageLayout;
let postgres: Postgres;
let databaseUrl: string;
let root: TempDir;
let nginx: Nginx;
const receivers: Receiver[] = [];
const replicas: PullgateProcess[] = [];

beforeAll(async () => {
  upstream = await startRegistry();
  layout = await testImages();
  postgres = await startPostgres();
  databaseUrl = await postgres.createDatabase();
  root = await makeTempDir('fleet-moved');
  receivers.push(await startReceiver(), await startReceiver());
  replicas.push(
    ...(await startReplicas(['a', 'b', 'c'], root.path, {
      PULLGATE_UPSTREAM: upstream.url,
      PULLGATE_DATABASE_URL: databaseUrl,
      PULLGATE_ADMIN_TOKEN: token,
      PULLGATE_TAG_TTL: '0',
      PULLGATE_WEBHOOKS: JSON.stringify(receivers.map((r) => ({ url: r.url, format: 'json' }))),
    })),
  );
  nginx = await startNginx(replicas.map((r) => r.host));
}, 240_000);

afterAll(async () => {
  await nginx?.stop();
  for (const r of replicas) await r.stop();
  for (const r of receivers) await new Promise((resolve) => r.server.close(resolve));
  await postgres?.stop();
  await upstream?.stop();
  await root?.cleanup();
});

async function pull(base: string): Promise<number> {
  const res = await fetch(`${base}/v2/${REPO}/manifests/${TAG}`, {
    headers: { accept: `${MEDIA_TYPE.ociManifest}, ${MEDIA_TYPE.dockerManifest}` },
  });
  await res.arrayBuffer();
  return res.status;
}

/** The outbox's `alert.opened` rows: per receiver, how many and how many delivered. */
async function openedRows(): Promise<{ receiver: string; rows: number; delivered: number }[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ receiver: string; rows: string; delivered: string }>(
      `select receiver, count(*) as rows, count(delivered_at) as delivered from outbox
       where event = 'alert.opened' group by receiver order by receiver`,
    );
    return rows.map((r) => ({ receiver: r.receiver, rows: Number(r.rows), delivered: Number(r.delivered) }));
  } finally {
    await client.end();
  }
}

describe('a moved tag pulled at once through every replica', () => {
  it('raises one alert and delivers it once to each receiver', async () => {
    await pushImage(layout.dir, 'nonroot', upstream, REPO, TAG);
    expect(await pull(replicas[0]?.url ?? '')).toBe(200);
    await pushImage(layout.dir, 'nonroot-arm64', upstream, REPO, TAG);

    // Every replica, directly and through the balancer, sees the move for the first time at the same moment.
    const bases = [...replicas.map((r) => r.url), nginx.url];
    const statuses = await Promise.all(
      Array.from({ length: 48 }, (_, i) => pull(bases[i % bases.length] ?? '')),
    );
    expect(statuses.filter((s) => s !== 200)).toEqual([]);

    const res = await fetch(`${nginx.url}/admin/alerts?tag=${TAG}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(res.status).toBe(200);
    const { alerts } = (await res.json()) as { alerts: { id: number }[] };
    expect(alerts).toHaveLength(1);

    // Once every row is delivered no replica sends it again: the counts below are final.
    await expect
      .poll(async () => (await openedRows()).map((r) => r.delivered), { timeout: 60_000, interval: 200 })
      .toEqual([1, 1]);
    expect((await openedRows()).map((r) => r.rows)).toEqual([1, 1]);
    for (const r of receivers) expect(r.opened).toHaveLength(1);
  }, 120_000);
});
