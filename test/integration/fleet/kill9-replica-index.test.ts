import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedRegistry } from '../../helpers/images.js';
import { getFreePort } from '../../helpers/ports.js';
import { type Postgres, startPostgres } from '../../helpers/postgres.js';
import { type Daemon, run, startProcess, waitForUrl } from '../../helpers/proc.js';
import { type Registry, startRegistry } from '../../helpers/registry.js';
import { makeTempDir, type TempDir } from '../../helpers/tmp.js';

// Two `pullgate serve` processes on one real PostgreSQL; kill -9 of one in the middle of a burst of pulls on both,
// while records it acknowledged are still waiting for their batch insert: after it restarts, every decision any
// client was answered is listed (once) through the other replica, and both chains verify.
const token = 'kill9-fleet-token';
let upstream: Registry;
let postgres: Postgres;
let databaseUrl: string;
let dir: TempDir;
const daemons: Daemon[] = [];

async function startServe(replica: string, port: number, env: Record<string, string> = {}): Promise<Daemon> {
  const daemon = await startProcess(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'serve'], {
    logPath: join(dir.path, `pullgate-${replica}-${daemons.length}.log`),
    env: {
      ...process.env,
      PULLGATE_LISTEN: `127.0.0.1:${port}`,
      PULLGATE_UPSTREAM: upstream.url,
      PULLGATE_DATA_DIR: join(dir.path, replica),
      PULLGATE_DATABASE_URL: databaseUrl,
      PULLGATE_REPLICA_ID: replica,
      PULLGATE_ADMIN_TOKEN: token,
      PULLGATE_LOG_LEVEL: 'warn',
      ...env,
    },
  });
  daemons.push(daemon);
  await waitForUrl(`http://127.0.0.1:${port}/readyz`, { daemon, timeoutMs: 60_000 });
  return daemon;
}

/** Every decision listed through `url`, every page. */
async function listAll(url: string): Promise<string[]> {
  const listed: string[] = [];
  let cursor: string | null = null;
  do {
    const res = await fetch(
      `${url}/admin/decisions?limit=1000${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`,
      { headers: { authorization: `Bearer ${token}` } },
    );
    expect(res.status).toBe(200);
    const page = (await res.json()) as { records: { requestId: string }[]; nextCursor: string | null };
    listed.push(...page.records.map((r) => r.requestId));
    cursor = page.nextCursor;
  } while (cursor !== null);
  return listed;
}

beforeAll(async () => {
  upstream = await startRegistry();
  await seedRegistry(upstream);
  postgres = await startPostgres();
  databaseUrl = await postgres.createDatabase();
  dir = await makeTempDir('kill9-fleet');
}, 120_000);
afterAll(async () => {
  for (const d of daemons) await d.stop();
  await postgres?.stop();
  await upstream?.stop();
  await dir?.cleanup();
});

describe('a replica killed with -9 under load', () => {
  it('lists every answered decision after its restart, and every chain verifies', async () => {
    const [portA, portB] = [await getFreePort(), await getFreePort()];
    // A long batch interval on a, so that the kill finds acknowledged records not yet indexed.
    const a = await startServe('a', portA, { PULLGATE_AUDIT_INDEX_BATCH_MS: '5000' });
    await startServe('b', portB);
    const urls = [`http://127.0.0.1:${portA}`, `http://127.0.0.1:${portB}`];
    const acknowledged: string[] = [];
    let killed = false;
    const worker = async (n: number) => {
      const url = urls[n % 2];
      for (let i = 0; i < 10_000; i++) {
        // b's workers stop once a is killed (the burst ends); a's at their first refused connection.
        if (killed && n % 2 === 1) return;
        try {
          const res = await fetch(`${url}/v2/library/app/manifests/${n % 4 < 2 ? 'nonroot' : 'v2s2'}`, {
            method: 'HEAD',
          });
          const id = res.headers.get('x-request-id');
          if (res.status === 200 && id !== null) acknowledged.push(id);
        } catch {
          return;
        }
      }
    };
    const burst = Promise.all(Array.from({ length: 8 }, (_, n) => worker(n)));
    while (acknowledged.length < 300) await new Promise((r) => setTimeout(r, 10));
    process.kill(a.pid, 'SIGKILL');
    killed = true;
    await burst;
    await a.exited;
    expect(acknowledged.length).toBeGreaterThanOrEqual(300);
    const beforeRestart = await listAll(urls[1] ?? '');
    expect(acknowledged.filter((id) => !beforeRestart.includes(id)).length).toBeGreaterThan(0);

    await startServe('a', portA);
    const listed = await listAll(urls[1] ?? '');
    const missing = acknowledged.filter((id) => !listed.includes(id));
    expect(missing).toEqual([]);
    expect(new Set(listed).size).toBe(listed.length);

    const verify = await run(
      process.execPath,
      ['--import', 'tsx', 'src/cli.ts', 'log', 'verify', '--data-dir', dir.path, '--json'],
      { allowFailure: true, timeoutMs: 60_000 },
    );
    const report = JSON.parse(verify.stdout) as { logs: { replica: string; report: { ok: boolean } }[] };
    expect(report.logs.map((l) => [l.replica, l.report.ok])).toEqual([
      ['a', true],
      ['b', true],
    ]);
    expect(verify.code).toBe(0);
  }, 180_000);
});
