import { createHash, randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OpenUpstreamBlob } from '../../../src/cache/blob-fill.js';
import { BlobStore } from '../../../src/cache/blob-store.js';
import { type FaultServer, startFaultServer } from '../../helpers/fault-server.js';
import { makeTempDir, type TempDir } from '../../helpers/tmp.js';

// A cold range read that ends before the fill does is the fill's last reader: the upstream read is stopped. A
// request for the same blob that arrives while that fill winds down must start a fill of its own, not join the
// dying one (it would fail: a 500 for a whole-blob GET right after a range GET, seen once in CI). The upstream
// is an in-process server sending slowly over a real socket, so the fill is surely still in flight.
const blobBytes = 2 * 1024 * 1024;
const chunkBytes = 64 * 1024;
const bytes = randomBytes(blobBytes);
const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
let slow: FaultServer;
let dir: TempDir;
let gets = 0;

beforeAll(async () => {
  slow = await startFaultServer(async (_req, res) => {
    gets++;
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(blobBytes) });
    for (let at = 0; at < blobBytes && !res.destroyed; at += chunkBytes) {
      res.write(bytes.subarray(at, at + chunkBytes));
      await new Promise((r) => setTimeout(r, 5));
    }
    res.end();
  });
  dir = await makeTempDir('fill-abandoned');
});
afterAll(async () => {
  await slow?.stop();
  await dir?.cleanup();
});

const openUpstream: OpenUpstreamBlob = async (signal) => {
  const res = await request(`${slow.url}/blob`, { signal });
  return { size: Number(res.headers['content-length']), body: res.body };
};

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe('a fill whose last reader left', () => {
  it('is not joined by the next request, which gets a fill of its own and the right bytes', async () => {
    const store = new BlobStore(dir.path, 1 << 30);
    await store.init();

    const first = store.fill(digest, openUpstream);
    const range = await readAll(first.createReader(10, 99));
    expect(range.equals(bytes.subarray(10, 100))).toBe(true);
    // The range reader has ended and released the fill: its upstream read was told to stop, in this same tick.
    expect(first.abandoned).toBe(true);

    const second = store.fill(digest, openUpstream);
    expect(second).not.toBe(first);
    const whole = await readAll(second.createReader());
    expect(createHash('sha256').update(whole).digest('hex')).toBe(digest.slice('sha256:'.length));
    expect(gets).toBe(2);
    expect(store.lookup(digest)?.size).toBe(blobBytes);
  });
});
