import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BlobFill } from '../../../src/cache/blob-fill.js';
import { waitUntil } from '../../helpers/proc.js';
import { makeTempDir, type TempDir } from '../../helpers/tmp.js';

// These tests drive the fill with an upstream body written by hand (issue 16's guarantees, whatever the fill's design):
// a reader can be made to join far behind the upstream, or the upstream held just before its end.
const blobBytes = 8 * 1024 * 1024;
const chunkBytes = 64 * 1024;

let dir: TempDir;
beforeEach(async () => {
  dir = await makeTempDir('blob-fill');
});
afterEach(async () => {
  await dir?.cleanup();
});

function sha256(bytes: Buffer): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

function startFill(digest: string, upstream: PassThrough, size: number): BlobFill {
  const fill = new BlobFill(
    digest,
    join(dir.path, 'tmp'),
    join(dir.path, 'final'),
    () => {},
    () => {},
  );
  void fill.run(async () => ({ size, body: upstream }));
  return fill;
}

async function collect(reader: Readable, into: Buffer[]): Promise<Buffer> {
  for await (const chunk of reader) into.push(chunk as Buffer);
  return Buffer.concat(into);
}

/** Writes `bytes` in socket-sized chunks, waiting for the fill to take each (it pauses the body when behind). */
async function send(upstream: PassThrough, bytes: Buffer): Promise<void> {
  for (let at = 0; at < bytes.length; at += chunkBytes) {
    if (!upstream.write(bytes.subarray(at, at + chunkBytes)))
      await new Promise((r) => upstream.once('drain', r));
  }
}

describe('BlobFill', () => {
  it('gives a reader that joins far behind the fill the exact bytes, read back from the file', async () => {
    const bytes = randomBytes(blobBytes);
    const upstream = new PassThrough();
    const fill = startFill(sha256(bytes), upstream, blobBytes);
    const early = collect(fill.createReader(), []);
    await send(upstream, bytes.subarray(0, 6 * 1024 * 1024));
    await waitUntil(() => fill.written >= 6 * 1024 * 1024, { what: 'six MiB on disk' });
    const late = collect(fill.createReader(), []);
    await send(upstream, bytes.subarray(6 * 1024 * 1024));
    upstream.end();
    expect((await early).equals(bytes)).toBe(true);
    expect((await late).equals(bytes)).toBe(true);
    expect((await readFile(join(dir.path, 'final'))).equals(bytes)).toBe(true);
  });

  it('holds the last byte back until the upstream has ended and the digest is verified', async () => {
    const bytes = randomBytes(1024 * 1024);
    const upstream = new PassThrough();
    const fill = startFill(sha256(bytes), upstream, bytes.length);
    const got: Buffer[] = [];
    const reader = fill.createReader();
    const all = collect(reader, got);
    await send(upstream, bytes);
    await waitUntil(() => got.reduce((n, c) => n + c.length, 0) === bytes.length - 1, {
      what: 'all but the last byte',
    });
    // Every byte is with the fill, but the upstream has not ended: the last one stays back.
    await new Promise((r) => setTimeout(r, 50));
    expect(got.reduce((n, c) => n + c.length, 0)).toBe(bytes.length - 1);
    upstream.end();
    expect((await all).equals(bytes)).toBe(true);
  });

  it('reads the upstream no faster than its one reader takes the bytes', async () => {
    const bytes = randomBytes(blobBytes);
    const upstream = new PassThrough();
    const fill = startFill(sha256(bytes), upstream, blobBytes);
    const reader = fill.createReader();
    const sent = send(upstream, bytes);
    // Nobody reads yet: the fill stops once the reader's buffer is full, instead of filling the file ahead of it.
    await new Promise((r) => setTimeout(r, 200));
    expect(fill.written).toBeLessThan(1024 * 1024);
    const all = collect(reader, []);
    await sent;
    upstream.end();
    expect((await all).equals(bytes)).toBe(true);
  });

  it('does not let a reader that stops reading hold back another', async () => {
    const bytes = randomBytes(blobBytes);
    const upstream = new PassThrough();
    const fill = startFill(sha256(bytes), upstream, blobBytes);
    const stalled = fill.createReader();
    const moving = collect(fill.createReader(), []);
    await send(upstream, bytes);
    upstream.end();
    expect((await moving).equals(bytes)).toBe(true);
    // The stalled one catches up from the file when it reads again.
    expect((await collect(stalled, [])).equals(bytes)).toBe(true);
  });

  it('gives a range inside the bytes just received exactly those bytes, before the upstream ends', async () => {
    const bytes = randomBytes(blobBytes);
    const upstream = new PassThrough();
    const fill = startFill(sha256(bytes), upstream, blobBytes);
    const whole = collect(fill.createReader(), []);
    await send(upstream, bytes.subarray(0, 1024 * 1024));
    await waitUntil(() => fill.written === 1024 * 1024, { what: 'the first MiB' });
    // Starts and ends inside chunks, not on their edges.
    const range = await collect(fill.createReader(100_001, 900_000), []);
    expect(range.equals(bytes.subarray(100_001, 900_001))).toBe(true);
    await send(upstream, bytes.subarray(1024 * 1024));
    upstream.end();
    expect((await whole).equals(bytes)).toBe(true);
  });

  it('fails its readers on a digest mismatch and caches nothing', async () => {
    const bytes = randomBytes(blobBytes);
    const upstream = new PassThrough();
    const fill = startFill(sha256(randomBytes(16)), upstream, blobBytes);
    const got: Buffer[] = [];
    const all = collect(fill.createReader(), got);
    await send(upstream, bytes);
    upstream.end();
    await expect(all).rejects.toThrow();
    expect(got.reduce((n, c) => n + c.length, 0)).toBeLessThan(blobBytes);
    await expect(fill.ready).resolves.toBe(blobBytes);
    expect(fill.failed).toBeDefined();
    expect(existsSync(join(dir.path, 'final'))).toBe(false);
    expect(existsSync(join(dir.path, 'tmp'))).toBe(false);
  });
});
