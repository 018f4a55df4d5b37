import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FaultServer, startFaultServer } from '../../helpers/fault-server.js';
import { putBlob } from '../../helpers/images.js';
import { waitUntil } from '../../helpers/proc.js';
import { type Pullgate, startPullgate } from '../../helpers/pullgate.js';
import { type Registry, startRegistry } from '../../helpers/registry.js';

// The cache serves Range requests (RFC 9110 §14) with 206 and the exact bytes, both from a committed file and
// from a fill still in flight (issue 6, "it survives restarts and serves Range requests"). The committed case
// uses a blob in the real registry; the in-flight case an in-process upstream slow enough to be caught mid-fill.
const repo = 'library/app';
const blobBytes = 4 * 1024 * 1024;
const chunkBytes = 64 * 1024;
const slowBytes = randomBytes(blobBytes);
const slowDigest = `sha256:${createHash('sha256').update(slowBytes).digest('hex')}`;
let sent = 0;
let upstream: Registry;
let slow: FaultServer;
const started: Pullgate[] = [];

beforeAll(async () => {
  upstream = await startRegistry();
  slow = await startFaultServer(async (req, res) => {
    if (req.url !== `/v2/${repo}/blobs/${slowDigest}` || req.method !== 'GET') {
      res.writeHead(404);
      res.end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(blobBytes) });
    for (let at = 0; at < blobBytes && !res.destroyed; at += chunkBytes) {
      res.write(slowBytes.subarray(at, at + chunkBytes));
      sent = at + chunkBytes;
      await new Promise((r) => setTimeout(r, 15));
    }
    res.end();
  });
});
afterAll(async () => {
  for (const p of started) await p.stop();
  await slow?.stop();
  await upstream?.stop();
});

async function start(upstreamUrl: string): Promise<Pullgate> {
  const pullgate = await startPullgate({ env: { PULLGATE_UPSTREAM: upstreamUrl } });
  started.push(pullgate);
  return pullgate;
}

interface Part {
  status: number;
  contentRange: string | null;
  contentLength: string | null;
  body: Buffer;
}

async function ranged(pullgate: Pullgate, digest: string, range: string): Promise<Part> {
  const res = await fetch(`${pullgate.url}/v2/${repo}/blobs/${digest}`, { headers: { range } });
  return {
    status: res.status,
    contentRange: res.headers.get('content-range'),
    contentLength: res.headers.get('content-length'),
    body: Buffer.from(await res.arrayBuffer()),
  };
}

function expectPart(part: Part, whole: Buffer, start: number, end: number): void {
  expect(part.status).toBe(206);
  expect(part.contentRange).toBe(`bytes ${start}-${end}/${whole.length}`);
  expect(part.contentLength).toBe(String(end - start + 1));
  expect(part.body.equals(whole.subarray(start, end + 1))).toBe(true);
}

describe('Range requests on the cache', () => {
  it('answers 206 with the exact bytes from a cached blob, without asking the upstream', async () => {
    const pullgate = await start(upstream.url);
    const bytes = randomBytes(3 * 1024 * 1024);
    const digest = await putBlob(upstream, repo, bytes);
    const whole = await fetch(`${pullgate.url}/v2/${repo}/blobs/${digest}`);
    expect(Buffer.from(await whole.arrayBuffer()).equals(bytes)).toBe(true);
    await upstream.waitForAccess((e) => e.method === 'GET' && e.path === `/v2/${repo}/blobs/${digest}`);

    expectPart(await ranged(pullgate, digest, 'bytes=100-199'), bytes, 100, 199);
    expectPart(await ranged(pullgate, digest, 'bytes=1048576-'), bytes, 1048576, bytes.length - 1);
    expectPart(await ranged(pullgate, digest, 'bytes=-16'), bytes, bytes.length - 16, bytes.length - 1);
    await new Promise((r) => setTimeout(r, 200));
    const gets = (await upstream.accessLog()).filter(
      (e) => e.method === 'GET' && e.path === `/v2/${repo}/blobs/${digest}`,
    );
    expect(gets).toHaveLength(1);
  });

  it('answers 206 with the exact bytes from a fill in flight, behind it and ahead of it', async () => {
    const pullgate = await start(slow.url);
    const url = `${pullgate.url}/v2/${repo}/blobs/${slowDigest}`;
    const whole = fetch(url).then(async (r) => ({
      status: r.status,
      body: Buffer.from(await r.arrayBuffer()),
    }));
    await waitUntil(() => sent >= blobBytes / 4, { what: 'the fill to be under way' });

    const behind = ranged(pullgate, slowDigest, 'bytes=1000-1999');
    const ahead = ranged(pullgate, slowDigest, `bytes=${3 * 1024 * 1024}-${3 * 1024 * 1024 + 99}`);
    // The suffix holds the last byte, which a fill holds back until the digest verifies.
    const suffix = ranged(pullgate, slowDigest, 'bytes=-16');
    const behindPart = await behind;
    // Answered while the upstream was still sending: from the fill, not from a committed file.
    expect(sent).toBeLessThan(blobBytes);
    expectPart(behindPart, slowBytes, 1000, 1999);
    expectPart(await ahead, slowBytes, 3 * 1024 * 1024, 3 * 1024 * 1024 + 99);
    expectPart(await suffix, slowBytes, blobBytes - 16, blobBytes - 1);
    const done = await whole;
    expect(done.status).toBe(200);
    expect(done.body.equals(slowBytes)).toBe(true);
    expect(slow.requests.filter((r) => r === `GET /v2/${repo}/blobs/${slowDigest}`)).toHaveLength(1);
  });
});
