import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { skopeoInspect } from '../../helpers/clients/skopeo.js';
import { pushImage, testImages } from '../../helpers/images.js';
import { type Postgres, startPostgres } from '../../helpers/postgres.js';
import { type Daemon, run, startProcess, waitForLog } from '../../helpers/proc.js';
import { type Registry, startRegistry } from '../../helpers/registry.js';
import { makeTempDir, type TempDir } from '../../helpers/tmp.js';

// Issue 4 "Tests with real parts": two pullgate processes (`node --import tsx src/cli.ts serve`, as deployed)
// sharing one real PostgreSQL see one history and open one alert for one mutation, however many pulls through
// either replica notice it; a review on one replica moves the tag on the other.
const TOKEN = 'acceptance-admin-token-0c44';
const REPO = 'library/app';
const TAG = '2.0.0';

interface Replica {
  url: string;
  host: string;
  daemon: Daemon;
}

interface AlertJson {
  id: number;
  status: string;
  action: string;
  old: { digest: string };
  new: { digest: string };
}

async function startReplica(name: string, env: Record<string, string>, work: string): Promise<Replica> {
  const daemon = await startProcess(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'serve'], {
    cwd: process.cwd(),
    logPath: join(work, `${name}.log`),
    env: {
      ...process.env,
      ...env,
      PULLGATE_LISTEN: '127.0.0.1:0',
      PULLGATE_DATA_DIR: join(work, name),
      PULLGATE_POLICY_DIR: join(process.cwd(), 'policies'),
      PULLGATE_LOG_LEVEL: 'info',
    },
  });
  const log = await waitForLog(daemon, /Server listening at http:\/\/127\.0\.0\.1:\d+/, {
    timeoutMs: 30_000,
  });
  const port = /Server listening at http:\/\/127\.0\.0\.1:(\d+)/.exec(log)?.[1];
  if (port === undefined) throw new Error(`${name}: no listening line`);
  return { url: `http://127.0.0.1:${port}`, host: `127.0.0.1:${port}`, daemon };
}

async function admin(replica: Replica, path: string, init: RequestInit = {}): Promise<unknown> {
  const res = await fetch(`${replica.url}/admin${path}`, {
    ...init,
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
  });
  const body: unknown = await res.json();
  if (res.status !== 200) throw new Error(`admin ${path} answered ${res.status}: ${JSON.stringify(body)}`);
  return body;
}

async function alerts(replica: Replica): Promise<AlertJson[]> {
  return ((await admin(replica, '/alerts')) as { alerts: AlertJson[] }).alerts;
}

describe('two pullgate processes on one PostgreSQL open one alert for one mutation', () => {
  let registry: Registry;
  let postgres: Postgres;
  let work: TempDir;
  let replicas: Replica[] = [];
  let changedLayout: string;

  const replica = (i: number): Replica => {
    const r = replicas[i];
    if (r === undefined) throw new Error(`replica ${i} did not start`);
    return r;
  };

  beforeAll(async () => {
    work = await makeTempDir('replicas');
    [registry, postgres] = await Promise.all([startRegistry(), startPostgres()]);
    const databaseUrl = await postgres.createDatabase();
    const env = {
      PULLGATE_UPSTREAM: registry.url,
      PULLGATE_DATABASE_URL: databaseUrl,
      PULLGATE_TAG_TTL: '0',
      PULLGATE_ADMIN_TOKEN: TOKEN,
    };
    // Started together: both run the migrations at once, as replicas rolled out side by side do.
    replicas = await Promise.all([startReplica('a', env, work.path), startReplica('b', env, work.path)]);

    const layout = await testImages();
    changedLayout = join(work.path, 'oci');
    await run('skopeo', ['copy', '--quiet', `oci:${layout.dir}:nonroot`, `oci:${changedLayout}:nonroot`]);
    await run('umoci', [
      'config',
      '--image',
      `${changedLayout}:nonroot`,
      '--tag',
      'changed',
      '--config.env',
      'FEATURE=on',
    ]);
  });

  afterAll(async () => {
    await Promise.all(replicas.map((r) => r.daemon.stop()));
    await postgres?.stop();
    await registry?.stop();
    await work?.cleanup();
  });

  it('pins, shares one alert, and moves on both once approved on one', async () => {
    const [a, b] = [replica(0), replica(1)];
    const layout = await testImages();
    const oldDigest = await pushImage(layout.dir, 'nonroot', registry, REPO, TAG);
    const first = await Promise.all([a, b].map((r) => skopeoInspect(`${r.host}/${REPO}:${TAG}`)));
    expect(first.map((i) => i.Digest)).toEqual([oldDigest, oldDigest]);

    const newDigest = await pushImage(changedLayout, 'changed', registry, REPO, TAG);
    expect(newDigest).not.toBe(oldDigest);
    // Both replicas notice the overwrite at the same time, several pulls each.
    const during = await Promise.all(
      Array.from({ length: 6 }, (_, i) => skopeoInspect(`${replica(i % 2).host}/${REPO}:${TAG}`)),
    );
    expect(during.map((i) => i.Digest)).toEqual(Array(6).fill(oldDigest));

    const [seenByA, seenByB] = await Promise.all([alerts(a), alerts(b)]);
    expect(seenByA).toHaveLength(1);
    expect(seenByB).toEqual(seenByA);
    expect(seenByA[0]).toMatchObject({
      status: 'open',
      action: 'pin',
      old: { digest: oldDigest },
      new: { digest: newDigest },
    });
    const id = seenByA[0]?.id;

    const history = `/tags/history?upstream=docker.io&repository=${encodeURIComponent(REPO)}&tag=${TAG}`;
    const [historyA, historyB] = await Promise.all([admin(a, history), admin(b, history)]);
    expect(historyB).toEqual(historyA);
    const observations = (historyA as { observations: { digest: string; count: number }[] }).observations;
    expect(observations.find((o) => o.digest === oldDigest)?.count).toBe(2);
    expect(observations.find((o) => o.digest === newDigest)?.count).toBe(6);

    await admin(b, `/alerts/${id}/approve`, {
      method: 'POST',
      body: JSON.stringify({ reason: 'feature flag rollout' }),
    });
    expect((await skopeoInspect(`${a.host}/${REPO}:${TAG}`)).Digest).toBe(newDigest);
    expect((await alerts(a)).map((x) => x.status)).toEqual(['approved']);
  });
});
