import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ImageLayout, MEDIA_TYPE, pushImage, testImages } from '../../helpers/images.js';
import { type Nginx, startNginx } from '../../helpers/nginx.js';
import { ociErrorCode, ociErrorProblem } from '../../helpers/oci-error-body.js';
import { type Postgres, startPostgres } from '../../helpers/postgres.js';
import { run } from '../../helpers/proc.js';
import { type PullgateProcess, startReplicas } from '../../helpers/pullgate-process.js';
import { type Registry, startRegistry } from '../../helpers/registry.js';
import { makeTempDir, type TempDir } from '../../helpers/tmp.js';

// PostgreSQL restarted (a fast shutdown, then a start on the same port and data directory) while clients pull through
// three `pullgate serve` processes, directly and through nginx. Meanwhile a pull that needs the store is a 503 with an
// OCI error body and a pinned tag is never served as the digest it moved to; afterwards every replica serves again
// without a restart, every decision a client got a 200 for is in the shared index, every chain verifies, and a
// review through one replica reaches the others over the change feed that had to listen again.
const token = 'pg-restart-fleet-token';
const REPO = 'library/app';
const PINNED = '7.1.0';
const STEADY = 'steady';

interface Answer {
  base: string;
  tag: string;
  status: number;
  digest: string | null;
  /** sha256 of the body: what the client really got, whatever the header says. */
  bodyDigest: string;
  body: string;
  requestId: string | null;
  sentAt: number;
}

let upstream: Registry;
let layout: ImageLayout;
let postgres: Postgres;
let root: TempDir;
let nginx: Nginx;
const replicas: PullgateProcess[] = [];
let pinnedDigest: string;
let movedDigest: string;
let alertId: number;
const answers: Answer[] = [];
let load: Promise<void> | undefined;
let stopLoad = false;
let downAt = 0;
let upAt = 0;

async function pull(base: string, tag: string): Promise<Answer> {
  const sentAt = Date.now();
  const res = await fetch(`${base}/v2/${REPO}/manifests/${tag}`, {
    headers: { accept: `${MEDIA_TYPE.ociManifest}, ${MEDIA_TYPE.dockerManifest}` },
    signal: AbortSignal.timeout(60_000),
  });
  const bytes = Buffer.from(await res.arrayBuffer());
  return {
    base,
    tag,
    status: res.status,
    digest: res.headers.get('docker-content-digest'),
    bodyDigest: `sha256:${createHash('sha256').update(bytes).digest('hex')}`,
    body: bytes.toString('utf8'),
    requestId: res.headers.get('x-request-id'),
    sentAt,
  };
}

async function admin(base: string, path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`${base}/admin/${path}`, {
    ...init,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...init.headers },
  });
}

async function listAll(base: string): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | null = null;
  do {
    const res = await admin(
      base,
      `decisions?limit=1000${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`,
    );
    expect(res.status).toBe(200);
    const page = (await res.json()) as { records: { requestId: string }[]; nextCursor: string | null };
    ids.push(...page.records.map((r) => r.requestId));
    cursor = page.nextCursor;
  } while (cursor !== null);
  return ids;
}

const direct = (a: Answer) => a.base !== nginx.url;

beforeAll(async () => {
  upstream = await startRegistry();
  layout = await testImages();
  await pushImage(layout.dir, 'nonroot', upstream, REPO, STEADY);
  pinnedDigest = await pushImage(layout.dir, 'nonroot', upstream, REPO, PINNED);
  postgres = await startPostgres();
  const databaseUrl = await postgres.createDatabase();
  root = await makeTempDir('fleet-pg-restart');
  replicas.push(
    ...(await startReplicas(
      ['a', 'b', 'c'],
      root.path,
      { PULLGATE_UPSTREAM: upstream.url, PULLGATE_DATABASE_URL: databaseUrl, PULLGATE_ADMIN_TOKEN: token },
      (id) => ({
        // c trusts a tag's resolution for ten minutes: only the change feed can make it look again sooner.
        PULLGATE_TAG_TTL: id === 'c' ? '600' : '0',
        // a's records wait five seconds for their batch insert: the outage finds acknowledged ones not yet indexed.
        PULLGATE_AUDIT_INDEX_BATCH_MS: id === 'a' ? '5000' : '200',
      }),
    )),
  );
  nginx = await startNginx(replicas.map((r) => r.host));
  // The tag is approved everywhere (c remembers its resolution), then moves upstream: a fully qualified tag that
  // moved is pinned to the approved digest, with an alert open.
  for (const r of replicas) expect((await pull(r.url, PINNED)).digest).toBe(pinnedDigest);
  movedDigest = await pushImage(layout.dir, 'nonroot-arm64', upstream, REPO, PINNED);
  expect((await pull(replicas[0]?.url ?? '', PINNED)).digest).toBe(pinnedDigest);
  const res = await admin(nginx.url, `alerts?status=open&tag=${PINNED}`);
  const { alerts } = (await res.json()) as { alerts: { id: number }[] };
  expect(alerts).toHaveLength(1);
  alertId = alerts[0]?.id ?? 0;
}, 240_000);

afterAll(async () => {
  stopLoad = true;
  await load?.catch(() => undefined);
  await nginx?.stop();
  for (const r of replicas) await r.stop();
  await postgres?.stop();
  await upstream?.stop();
  await root?.cleanup();
});

describe('PostgreSQL restarted under load', () => {
  it('answers 503 with an OCI error body meanwhile, and never the digest a pinned tag moved to', async () => {
    const bases = [...replicas.map((r) => r.url), nginx.url];
    // Eight clients: each base (a replica directly, or the balancer) with each tag.
    load = Promise.all(
      Array.from({ length: 2 * bases.length }, async (_, n) => {
        const base = bases[n % bases.length] ?? '';
        const tag = n < bases.length ? PINNED : STEADY;
        while (!stopLoad) answers.push(await pull(base, tag));
      }),
    ).then(() => undefined);
    await expect
      .poll(() => answers.filter((a) => a.status === 200).length, { timeout: 60_000 })
      .toBeGreaterThan(40);

    await postgres.pause();
    downAt = Date.now();
    try {
      // Every replica, asked directly, has said it cannot judge the pinned tag without the store.
      await expect
        .poll(
          () =>
            replicas.filter((r) =>
              answers.some(
                (a) => a.base === r.url && a.tag === PINNED && a.sentAt >= downAt && a.status === 503,
              ),
            ).length,
          { timeout: 60_000, interval: 100 },
        )
        .toBe(replicas.length);
      // And the outage caught a's acknowledged records on their way to the index.
      await expect
        .poll(
          async () => (await replicas[0]?.daemon.readLog())?.includes('failed to index decision log records'),
          {
            timeout: 30_000,
            interval: 200,
          },
        )
        .toBe(true);
    } finally {
      upAt = Date.now();
      await postgres.resume();
    }

    for (const a of answers) {
      expect(a.digest).not.toBe(movedDigest);
      expect(a.bodyDigest).not.toBe(movedDigest);
      if (a.tag === PINNED && a.status === 200)
        expect([a.digest, a.bodyDigest]).toEqual([pinnedDigest, pinnedDigest]);
    }
    const refusals = answers.filter((a) => direct(a) && a.status !== 200);
    expect(refusals.length).toBeGreaterThan(0);
    for (const a of refusals) {
      expect(a.status, a.body).toBe(503);
      expect(ociErrorProblem(a.body), a.body).toBeUndefined();
      expect(ociErrorCode(a.body)).toBe('UNAVAILABLE');
    }
    // The balancer retries a 503 on another replica; with all of them refusing it passes one on, or answers 502 itself.
    for (const a of answers.filter((x) => !direct(x))) expect([200, 502, 503]).toContain(a.status);
  }, 180_000);

  it('serves again on every replica by itself once PostgreSQL is back', async () => {
    for (const r of replicas) {
      for (const tag of [PINNED, STEADY]) {
        await expect
          .poll(
            () =>
              answers.some((a) => a.base === r.url && a.tag === tag && a.sentAt > upAt && a.status === 200),
            {
              timeout: 60_000,
              interval: 100,
            },
          )
          .toBe(true);
      }
      await expect.poll(async () => (await fetch(`${r.url}/readyz`)).status, { timeout: 30_000 }).toBe(200);
    }
    stopLoad = true;
    await load;
    for (const a of answers) expect(a.digest).not.toBe(movedDigest);
  }, 180_000);

  it('lists every decision a client got a 200 for, once, and every chain verifies', async () => {
    const acknowledged = answers.filter((a) => a.status === 200).map((a) => a.requestId ?? '');
    expect(acknowledged.length).toBeGreaterThan(40);
    let listed: string[] = [];
    await expect
      .poll(
        async () => {
          // Through b: a's records must reach the index by a's own retries, not by a query to a flushing them.
          listed = await listAll(replicas[1]?.url ?? '');
          return acknowledged.filter((id) => !listed.includes(id));
        },
        { timeout: 60_000, interval: 500 },
      )
      .toEqual([]);
    expect(new Set(listed).size).toBe(listed.length);

    const verify = await run(
      process.execPath,
      ['--import', 'tsx', 'src/cli.ts', 'log', 'verify', '--data-dir', root.path, '--json'],
      { allowFailure: true, timeoutMs: 60_000 },
    );
    const report = JSON.parse(verify.stdout) as { logs: { replica: string; report: { ok: boolean } }[] };
    expect(report.logs.map((l) => [l.replica, l.report.ok])).toEqual([
      ['a', true],
      ['b', true],
      ['c', true],
    ]);
    expect(verify.code).toBe(0);
  }, 120_000);

  it('hears a review made through another replica over the change feed again', async () => {
    const approve = await admin(replicas[0]?.url ?? '', `alerts/${alertId}/approve`, {
      method: 'POST',
      body: JSON.stringify({ reason: 'rebuilt for a CVE' }),
    });
    expect(approve.status).toBe(200);
    // c resolved the tag before the move and trusts that for ten minutes: only the notification makes it ask the
    // upstream again and serve the approved digest as the tag's own. Without it c keeps its old resolution, which
    // the store now calls a move away from the approved digest: served pinned, with a Warning, and a new alert.
    const c = replicas[2]?.url ?? '';
    await expect
      .poll(
        async () => {
          const res = await fetch(`${c}/v2/${REPO}/manifests/${PINNED}`, {
            headers: { accept: `${MEDIA_TYPE.ociManifest}, ${MEDIA_TYPE.dockerManifest}` },
          });
          await res.arrayBuffer();
          return { digest: res.headers.get('docker-content-digest'), warning: res.headers.get('warning') };
        },
        { timeout: 30_000, interval: 200 },
      )
      .toEqual({ digest: movedDigest, warning: null });
  }, 60_000);
});
