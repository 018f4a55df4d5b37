import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FaultServer, startFaultServer } from '../../helpers/fault-server.js';
import { getFreePort } from '../../helpers/ports.js';
import { type Daemon, startProcess, waitForUrl } from '../../helpers/proc.js';
import { makeTempDir, type TempDir } from '../../helpers/tmp.js';

// SIGTERM lets an in-flight pull finish (up to the drain deadline), refuses new connections, then exits 0.
const size = 4 * 1024 * 1024;
const payload = Buffer.alloc(size, 9);
const digest = `sha256:${createHash('sha256').update(payload).digest('hex')}`;
let slow: FaultServer;
let dir: TempDir;
let daemon: Daemon;
let url: string;

beforeAll(async () => {
  slow = await startFaultServer(async (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(size) });
    for (let offset = 0; offset < size && !res.destroyed; offset += 256 * 1024) {
      res.write(payload.subarray(offset, offset + 256 * 1024));
      await new Promise((r) => setTimeout(r, 60));
    }
    res.end();
  });
  dir = await makeTempDir('drain');
  const port = await getFreePort();
  url = `http://127.0.0.1:${port}`;
  daemon = await startProcess(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'serve'], {
    logPath: `${dir.path}/pullgate.log`,
    env: {
      ...process.env,
      PULLGATE_LISTEN: `127.0.0.1:${port}`,
      PULLGATE_UPSTREAM: slow.url,
      PULLGATE_DATA_DIR: dir.path,
      PULLGATE_DRAIN_SECONDS: '20',
    },
  });
  await waitForUrl(`${url}/healthz`, { daemon });
});
afterAll(async () => {
  await daemon?.stop();
  await slow?.stop();
  await dir?.cleanup();
});

describe('graceful drain', () => {
  it('finishes the in-flight blob after SIGTERM and exits 0', async () => {
    const res = await fetch(`${url}/v2/library/app/blobs/${digest}`);
    expect(res.status).toBe(200);
    process.kill(daemon.pid, 'SIGTERM');
    const hash = createHash('sha256');
    for await (const chunk of res.body ?? []) hash.update(chunk as Uint8Array);
    expect(`sha256:${hash.digest('hex')}`).toBe(digest);
    const status = await daemon.exited;
    expect(status).toMatchObject({ code: 0 });
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
  });
});
