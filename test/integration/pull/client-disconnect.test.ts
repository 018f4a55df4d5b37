import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FaultServer, startFaultServer } from '../../helpers/fault-server.js';
import { type Pullgate, startPullgate } from '../../helpers/pullgate.js';

// A client that goes away mid-blob cancels the upstream fetch, and the partial fill leaves nothing cached.
let slow: FaultServer;
let pullgate: Pullgate;
const digest = `sha256:${'b'.repeat(64)}`;

beforeAll(async () => {
  slow = await startFaultServer(async (_req, res) => {
    res.writeHead(200, {
      'content-type': 'application/octet-stream',
      'content-length': String(100 * 1024 * 1024),
    });
    const chunk = Buffer.alloc(64 * 1024, 7);
    for (let i = 0; i < 1600 && !res.destroyed; i++) {
      res.write(chunk);
      await new Promise((r) => setTimeout(r, 20));
    }
    res.end();
  });
  pullgate = await startPullgate({ env: { PULLGATE_UPSTREAM: slow.url } });
});
afterAll(async () => {
  await pullgate?.stop();
  await slow?.stop();
});

describe('client disconnect', () => {
  it('cancels the upstream fetch and caches nothing', async () => {
    const controller = new AbortController();
    const res = await fetch(`${pullgate.url}/v2/library/app/blobs/${digest}`, { signal: controller.signal });
    expect(res.status).toBe(200);
    const reader = res.body?.getReader();
    await reader?.read();
    controller.abort();
    const deadline = Date.now() + 5_000;
    while (slow.abortedResponses() === 0 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    expect(slow.abortedResponses()).toBe(1);
    expect(await readdir(join(pullgate.dataDir, 'cache', 'blobs', 'sha256'))).toEqual([]);
    expect(await readdir(join(pullgate.dataDir, 'cache', 'tmp'))).toEqual([]);
  });
});
