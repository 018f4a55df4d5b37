import { createHash, randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FaultServer, startFaultServer } from '../../helpers/fault-server.js';
import { waitUntil } from '../../helpers/proc.js';
import { type Pullgate, startPullgate } from '../../helpers/pullgate.js';

// A fill that fails while writes to its temp file are still queued (an upstream reset right after a burst of
// bytes) must not let those writes run against the closed file: a rejected write nobody awaits is an unhandled
// rejection, which ends a Node 20 process (--unhandled-rejections=throw is the default). pullgate runs in this
// process, so its unhandled rejections are seen here. The reset comes from an in-process upstream.
const blobBytes = 8 * 1024 * 1024;
// The race is one of timing: each round is one more chance (a failed fill caches nothing, so the same blob
// starts a new fill every round).
const rounds = 40;
const bytes = randomBytes(blobBytes);
const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
let upstream: FaultServer;
let pullgate: Pullgate;
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => {
  unhandled.push(reason);
};

beforeAll(async () => {
  process.on('unhandledRejection', onUnhandled);
  upstream = await startFaultServer(async (req, res) => {
    if (req.url !== `/v2/library/app/blobs/${digest}`) {
      res.writeHead(404);
      res.end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(blobBytes) });
    // Many small writes in one burst, so the fill has a queue of small chunks in hand, then a reset at once.
    for (let at = 0; at < blobBytes / 2; at += 16 * 1024) res.write(bytes.subarray(at, at + 16 * 1024));
    await new Promise((r) => setImmediate(r));
    req.socket.destroy();
  });
  pullgate = await startPullgate({ env: { PULLGATE_UPSTREAM: upstream.url } });
});
afterAll(async () => {
  process.off('unhandledRejection', onUnhandled);
  await pullgate?.stop();
  await upstream?.stop();
});

describe('a fill failing with writes in flight', () => {
  it('raises no unhandled rejection and leaves nothing cached', async () => {
    for (let round = 0; round < rounds; round++) {
      try {
        const res = await fetch(`${pullgate.url}/v2/library/app/blobs/${digest}`);
        await res.arrayBuffer();
      } catch {
        // The transfer is cut: that is expected here.
      }
    }
    const tmpDir = join(pullgate.dataDir, 'cache', 'tmp');
    await waitUntil(async () => (await readdir(tmpDir)).length === 0, {
      timeoutMs: 5_000,
      what: 'temp files',
    });
    // A stray write fails a moment after its fill settles.
    await new Promise((r) => setTimeout(r, 300));
    expect(unhandled.map((e) => String(e))).toEqual([]);
    expect(await readdir(join(pullgate.dataDir, 'cache', 'blobs', 'sha256'))).toEqual([]);
  });
});
