import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pushImage, type SeededImages, seedRegistry } from '../../helpers/images.js';
import { type Nginx, startNginx } from '../../helpers/nginx.js';
import { type Postgres, startPostgres } from '../../helpers/postgres.js';
import { run, waitUntil } from '../../helpers/proc.js';
import { type Pullgate, startPullgate } from '../../helpers/pullgate.js';
import { type Registry, startRegistry } from '../../helpers/registry.js';
import { makeTempDir, type TempDir } from '../../helpers/tmp.js';

// Three pullgate replicas on one real PostgreSQL behind a real nginx, in front of the real registry: one decision
// index across them, a review through one replica in force on the others, and a replica that lost the tail of its
// index (a crash between the durable write and the batched insert) catching up from its files at restart.
const token = 'fleet-test-token';
const REPLICAS = ['a', 'b', 'c'] as const;
type ReplicaId = (typeof REPLICAS)[number];

let upstream: Registry;
let seeded: SeededImages;
let postgres: Postgres;
let databaseUrl: string;
let root: TempDir;
let nginx: Nginx;
const replicas = new Map<ReplicaId, Pullgate>();

function replica(id: ReplicaId): Pullgate {
  const r = replicas.get(id);
  if (r === undefined) throw new Error(`replica ${id} is not running`);
  return r;
}

function startReplica(id: ReplicaId): Promise<Pullgate> {
  return startPullgate({
    dataDir: join(root.path, id),
    env: {
      PULLGATE_UPSTREAM: upstream.url,
      PULLGATE_DATABASE_URL: databaseUrl,
      PULLGATE_REPLICA_ID: id,
      PULLGATE_ADMIN_TOKEN: token,
      PULLGATE_TAG_TTL: '0',
    },
  });
}

interface Listed {
  requestId: string;
  replica: string;
  reference: string;
}

async function admin(base: string, path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`${base}/admin/${path}`, {
    ...init,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...init.headers },
  });
}

/** Every page of `/admin/decisions` through `base`, `limit` records a page. */
async function listAll(
  base: string,
  limit: number,
  filter = '',
): Promise<{ records: Listed[]; pages: number }> {
  const records: Listed[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const res = await admin(
      base,
      `decisions?limit=${limit}${filter}${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`,
    );
    expect(res.status).toBe(200);
    const page = (await res.json()) as { records: Listed[]; nextCursor: string | null };
    records.push(...page.records);
    cursor = page.nextCursor;
    pages++;
  } while (cursor !== null && pages < 100);
  return { records, pages };
}

/** One pull by tag through `base`; the request id the replica answered with (the decision's `requestId`). */
async function pull(base: string, tag: string): Promise<{ requestId: string; digest: string | null }> {
  const res = await fetch(`${base}/v2/library/app/manifests/${tag}`, {
    headers: {
      accept:
        'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json',
    },
  });
  await res.arrayBuffer();
  expect(res.status).toBe(200);
  return {
    requestId: res.headers.get('x-request-id') ?? '',
    digest: res.headers.get('docker-content-digest'),
  };
}

beforeAll(async () => {
  upstream = await startRegistry();
  seeded = await seedRegistry(upstream);
  postgres = await startPostgres();
  databaseUrl = await postgres.createDatabase();
  root = await makeTempDir('fleet');
  // Started one after the other: migrations racing are covered by the store's own test.
  for (const id of REPLICAS) replicas.set(id, await startReplica(id));
  nginx = await startNginx(REPLICAS.map((id) => replica(id).host));
}, 120_000);

afterAll(async () => {
  await nginx?.stop();
  for (const r of replicas.values()) await r.stop();
  await postgres?.stop();
  await upstream?.stop();
  await root?.cleanup();
});

describe('several replicas on one PostgreSQL behind nginx', () => {
  const answered = new Map<string, ReplicaId>();

  it('lists the decisions made on every replica once each, through any replica and the load balancer, across pages', async () => {
    for (const id of REPLICAS) {
      for (const tag of ['nonroot', 'v2s2', 'nonroot']) {
        answered.set((await pull(replica(id).url, tag)).requestId, id);
      }
    }
    // Other replicas' records arrive within their batch interval.
    await waitUntil(async () => (await listAll(replica('a').url, 1000)).records.length >= answered.size, {
      what: 'every replica indexed',
    });
    for (const base of [...REPLICAS.map((id) => replica(id).url), nginx.url]) {
      const { records, pages } = await listAll(base, 2);
      expect(pages).toBe(Math.ceil(answered.size / 2));
      expect(records.map((r) => r.requestId).sort()).toEqual([...answered.keys()].sort());
      for (const r of records) expect(r.replica).toBe(answered.get(r.requestId));
    }
    // The balancer really spread the listing over the replicas.
    const used = new Set((await nginx.accessLog()).map((l) => l.split(' ')[0]));
    expect(used.size).toBe(REPLICAS.length);
  });

  it('serves on replica C the digest a reviewer approved through replica A within a second', async () => {
    const repo = seeded.repo;
    const before = await pushImage(seeded.layout.dir, 'nonroot', upstream, repo, '4.2.1');
    expect((await pull(replica('c').url, '4.2.1')).digest).toBe(before);
    const after = await pushImage(seeded.layout.dir, 'nonroot-arm64', upstream, repo, '4.2.1');
    // A fully qualified tag that moved is pinned: every replica keeps serving the approved digest.
    expect((await pull(replica('b').url, '4.2.1')).digest).toBe(before);
    expect((await pull(replica('c').url, '4.2.1')).digest).toBe(before);
    const alerts = (await (await admin(replica('a').url, 'alerts?status=open&tag=4.2.1')).json()) as {
      alerts: { id: number }[];
    };
    expect(alerts.alerts).toHaveLength(1);
    const id = alerts.alerts[0]?.id;
    const approve = await admin(replica('a').url, `alerts/${id}/approve`, {
      method: 'POST',
      body: JSON.stringify({ reason: 'rebuild for a CVE' }),
    });
    expect(approve.status).toBe(200);
    const approvedAt = Date.now();
    let served: string | null = null;
    while (Date.now() - approvedAt < 1000) {
      served = (await pull(replica('c').url, '4.2.1')).digest;
      if (served === after) break;
    }
    expect(served).toBe(after);
  });

  it('indexes at restart what a replica wrote but had not indexed, and every chain verifies', async () => {
    const lastOnB: string[] = [];
    for (let i = 0; i < 4; i++) {
      const { requestId } = await pull(replica('b').url, 'nonroot');
      answered.set(requestId, 'b');
      lastOnB.push(requestId);
    }
    await replica('b').app.close();
    replicas.delete('b');
    // The last records never reached the index, as after a kill -9 between the durable write and the batch insert.
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      const { rows } = await client.query<{ max: string }>(
        `select max(seq) as max from decision_index where replica = 'b'`,
      );
      await client.query(`delete from decision_index where replica = 'b' and seq > $1`, [
        Number(rows[0]?.max) - 5,
      ]);
    } finally {
      await client.end();
    }
    const beforeRestart = (await listAll(replica('a').url, 1000)).records.map((r) => r.requestId);
    for (const requestId of lastOnB) expect(beforeRestart).not.toContain(requestId);

    replicas.set('b', await startReplica('b'));
    const listed = (await listAll(replica('a').url, 1000)).records.map((r) => r.requestId);
    for (const requestId of answered.keys()) expect(listed).toContain(requestId);
    expect(new Set(listed).size).toBe(listed.length);

    const verify = await run(
      process.execPath,
      ['--import', 'tsx', 'src/cli.ts', 'log', 'verify', '--data-dir', root.path, '--json'],
      { allowFailure: true, timeoutMs: 60_000 },
    );
    const report = JSON.parse(verify.stdout) as {
      ok: boolean;
      logs: { replica: string; report: { ok: boolean } }[];
    };
    expect(report.logs.map((l) => [l.replica, l.report.ok])).toEqual(REPLICAS.map((id) => [id, true]));
    expect(verify.code).toBe(0);
  });
});
