import { createHash, randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FaultServer, startFaultServer } from '../../helpers/fault-server.js';
import { waitUntil } from '../../helpers/proc.js';
import { type Pullgate, startPullgate } from '../../helpers/pullgate.js';

// A client that asks for a blob while its fill is in flight reads the growing fill, at its own pace: the
// upstream is read once (issue 6, "readers who arrive while a fill is in flight are served from that fill").
// The upstream is an in-process server that sends the blob slowly, so the second client surely arrives mid-fill.
const blobBytes = 4 * 1024 * 1024;
const chunkBytes = 64 * 1024;
const bytes = randomBytes(blobBytes);
const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
let sent = 0;
let slow: FaultServer;
let pullgate: Pullgate;

beforeAll(async () => {
  slow = await startFaultServer(async (req, res) => {
    if (req.url !== `/v2/library/app/blobs/${digest}`) {
      res.writeHead(404);
      res.end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(blobBytes) });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    for (let at = 0; at < blobBytes && !res.destroyed; at += chunkBytes) {
      res.write(bytes.subarray(at, at + chunkBytes));
      sent = at + chunkBytes;
      await new Promise((r) => setTimeout(r, 15));
    }
    res.end();
  });
  pullgate = await startPullgate({ env: { PULLGATE_UPSTREAM: slow.url } });
});
afterAll(async () => {
  await pullgate?.stop();
  await slow?.stop();
});

async function rest(reader: ReadableStreamDefaultReader<Uint8Array>, head: Buffer[]): Promise<Buffer> {
  const chunks = [...head];
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return Buffer.concat(chunks);
    chunks.push(Buffer.from(value));
  }
}

describe('readers arriving mid-fill', () => {
  it('are served from the fill in flight, with one upstream GET, and all get the right bytes', async () => {
    const url = `${pullgate.url}/v2/library/app/blobs/${digest}`;
    const a = await fetch(url);
    expect(a.status).toBe(200);
    const readerA = a.body?.getReader();
    if (readerA === undefined) throw new Error('no body');
    const first = await readerA.read();
    const headA = first.value === undefined ? [] : [Buffer.from(first.value)];

    await waitUntil(() => sent >= blobBytes / 4, { what: 'the fill to be under way' });
    const b = await fetch(url);
    expect(b.status).toBe(200);
    expect(b.headers.get('content-length')).toBe(String(blobBytes));
    // B's answer started while the upstream was still sending: B joined the fill, not a finished file.
    expect(sent).toBeLessThan(blobBytes);
    const readerB = b.body?.getReader();
    if (readerB === undefined) throw new Error('no body');

    const [bodyA, bodyB] = await Promise.all([rest(readerA, headA), rest(readerB, [])]);
    expect(bodyA.equals(bytes)).toBe(true);
    expect(bodyB.equals(bytes)).toBe(true);
    expect(slow.requests.filter((r) => r === `GET /v2/library/app/blobs/${digest}`)).toHaveLength(1);
    expect(await readdir(join(pullgate.dataDir, 'cache', 'blobs', 'sha256'))).toEqual([
      digest.slice('sha256:'.length),
    ]);
  });
});
