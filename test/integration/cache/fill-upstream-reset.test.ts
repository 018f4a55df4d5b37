import { createHash, randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { askRegistry, type FaultServer, startFaultServer } from '../../helpers/fault-server.js';
import { putBlob } from '../../helpers/images.js';
import { waitUntil } from '../../helpers/proc.js';
import { type Pullgate, startPullgate } from '../../helpers/pullgate.js';
import { type Registry, startRegistry } from '../../helpers/registry.js';

// A fill whose upstream connection is reset half way leaves nothing in the cache, neither a committed blob nor
// a temp file (issue 6, "Tests"), and the client's transfer does not complete. The blob lives in the real
// registry; the reset comes from an in-process front that cuts the first GET of it half way, since a real
// registry does not reset on demand.
const blobBytes = 4 * 1024 * 1024;
let upstream: Registry;
let front: FaultServer;
let pullgate: Pullgate;
let bytes: Buffer;
let digest: string;
let resetNext = true;

async function forward(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const answer = await askRegistry(upstream.url, req);
  const body = answer.body;
  res.writeHead(answer.status, answer.headers);
  const isBlobGet = req.method === 'GET' && (req.url ?? '').endsWith(`/blobs/${digest}`);
  if (isBlobGet && resetNext) {
    resetNext = false;
    // Half the declared bytes, then the connection is torn down: an ECONNRESET mid-body.
    res.write(body.subarray(0, body.length / 2));
    await new Promise((r) => setTimeout(r, 100));
    req.socket.destroy();
    return;
  }
  res.end(req.method === 'HEAD' ? undefined : body);
}

beforeAll(async () => {
  upstream = await startRegistry();
  bytes = randomBytes(blobBytes);
  digest = await putBlob(upstream, 'library/app', bytes);
  front = await startFaultServer(forward);
  pullgate = await startPullgate({ env: { PULLGATE_UPSTREAM: front.url } });
});
afterAll(async () => {
  await pullgate?.stop();
  await front?.stop();
  await upstream?.stop();
});

/** Reads a response to the end; a transfer cut short reports its error instead of throwing. */
async function drain(res: Response): Promise<{ bytes: Buffer; error: unknown }> {
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of res.body ?? []) chunks.push(Buffer.from(chunk as Uint8Array));
    return { bytes: Buffer.concat(chunks), error: undefined };
  } catch (error) {
    return { bytes: Buffer.concat(chunks), error };
  }
}

const sha256 = (b: Uint8Array) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

describe('fill interrupted by an upstream reset', () => {
  it('fails the client transfer, leaves nothing cached, and a later request refetches', async () => {
    const blobsDir = join(pullgate.dataDir, 'cache', 'blobs', 'sha256');
    const tmpDir = join(pullgate.dataDir, 'cache', 'tmp');
    const url = `${pullgate.url}/v2/library/app/blobs/${digest}`;

    let cut: { bytes: Buffer; error: unknown };
    try {
      cut = await drain(await fetch(url));
    } catch (error) {
      // The failure may also come before the response headers: that is a failed transfer too.
      cut = { bytes: Buffer.alloc(0), error };
    }
    expect(cut.error).toBeDefined();
    expect(cut.bytes.length).toBeLessThan(blobBytes);

    // The temp file is unlinked as the fill settles, just after the client sees the cut.
    await waitUntil(async () => (await readdir(tmpDir)).length === 0, {
      timeoutMs: 5_000,
      what: 'the temp file of the failed fill to be removed',
    });
    expect(await readdir(blobsDir)).toEqual([]);
    expect(await readdir(tmpDir)).toEqual([]);

    const healthy = await fetch(url);
    expect(healthy.status).toBe(200);
    const whole = await drain(healthy);
    expect(whole.error).toBeUndefined();
    expect(whole.bytes.length).toBe(blobBytes);
    expect(sha256(whole.bytes)).toBe(digest);
    expect(await readdir(blobsDir)).toEqual([digest.slice('sha256:'.length)]);
    expect(front.requests.filter((r) => r === `GET /v2/library/app/blobs/${digest}`)).toHaveLength(2);
  });
});
