import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRecords, verifyLogDir } from '../../../src/audit/index.js';
import { seedRegistry } from '../../helpers/images.js';
import { getFreePort } from '../../helpers/ports.js';
import { type Daemon, startProcess, waitForUrl } from '../../helpers/proc.js';
import { type Registry, startRegistry } from '../../helpers/registry.js';
import { makeTempDir, type TempDir } from '../../helpers/tmp.js';

// kill -9 in the middle of a burst of pulls: every decision a client received an answer for is in the log after
// the restart, and the log still verifies.
let upstream: Registry;
let dir: TempDir;
const daemons: Daemon[] = [];

async function startServe(port: number): Promise<Daemon> {
  const daemon = await startProcess(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'serve'], {
    logPath: join(dir.path, `pullgate-${daemons.length}.log`),
    env: {
      ...process.env,
      PULLGATE_LISTEN: `127.0.0.1:${port}`,
      PULLGATE_UPSTREAM: upstream.url,
      PULLGATE_DATA_DIR: join(dir.path, 'data'),
      PULLGATE_LOG_LEVEL: 'warn',
    },
  });
  daemons.push(daemon);
  await waitForUrl(`http://127.0.0.1:${port}/readyz`, { daemon, timeoutMs: 30_000 });
  return daemon;
}

beforeAll(async () => {
  upstream = await startRegistry();
  await seedRegistry(upstream);
  dir = await makeTempDir('kill9');
});
afterAll(async () => {
  for (const d of daemons) await d.stop();
  await upstream?.stop();
  await dir?.cleanup();
});

describe('decision log under kill -9', () => {
  it('holds every acknowledged decision after a restart', async () => {
    const port = await getFreePort();
    const first = await startServe(port);
    const url = `http://127.0.0.1:${port}`;
    const acknowledged: string[] = [];
    let killed = false;
    const worker = async (n: number) => {
      for (let i = 0; !killed && i < 10_000; i++) {
        try {
          const res = await fetch(`${url}/v2/library/app/manifests/${n % 2 === 0 ? 'nonroot' : 'v2s2'}`, {
            method: 'HEAD',
          });
          const id = res.headers.get('x-request-id');
          if (res.status === 200 && id !== null) acknowledged.push(id);
        } catch {
          return;
        }
      }
    };
    const burst = Promise.all(Array.from({ length: 16 }, (_, n) => worker(n)));
    while (acknowledged.length < 300) await new Promise((r) => setTimeout(r, 10));
    killed = true;
    process.kill(first.pid, 'SIGKILL');
    await burst;
    await first.exited;

    const second = await startServe(port);
    await second.stop();
    const auditDir = join(dir.path, 'data', 'audit');
    const report = await verifyLogDir(auditDir);
    expect(report.ok).toBe(true);
    const recorded = new Set<string>();
    let cursor: string | undefined;
    do {
      const page = await queryRecords(auditDir, { types: ['decision'], limit: 1000, cursor });
      for (const r of page.records) if (r.type === 'decision') recorded.add(r.requestId);
      cursor = page.nextCursor;
    } while (cursor !== undefined);
    expect(acknowledged.length).toBeGreaterThanOrEqual(300);
    const missing = acknowledged.filter((id) => !recorded.has(id));
    expect(missing).toEqual([]);
  });
});
