import { createHash, randomBytes } from 'node:crypto';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { putBlob } from '../../helpers/images.js';
import { waitUntil } from '../../helpers/proc.js';
import { type Pullgate, startPullgate } from '../../helpers/pullgate.js';
import { type Registry, startRegistry } from '../../helpers/registry.js';

// Beyond PULLGATE_CACHE_MAX_BYTES the least recently used blobs are evicted (issue 6, "a size cap with
// least-recently-used eviction"), and an evicted blob is fetched again on demand.
const repo = 'library/app';
const blobBytes = 1024 * 1024;
const capBytes = 3 * blobBytes + blobBytes / 2;
let upstream: Registry;
let pullgate: Pullgate;
const blobs: { digest: string; bytes: Buffer }[] = [];

beforeAll(async () => {
  upstream = await startRegistry();
  for (let i = 0; i < 5; i++) {
    const bytes = randomBytes(blobBytes);
    blobs.push({ digest: await putBlob(upstream, repo, bytes), bytes });
  }
  pullgate = await startPullgate({
    env: { PULLGATE_UPSTREAM: upstream.url, PULLGATE_CACHE_MAX_BYTES: String(capBytes) },
  });
});
afterAll(async () => {
  await pullgate?.stop();
  await upstream?.stop();
});

const sha256 = (b: Uint8Array) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

async function pull(index: number): Promise<void> {
  const blob = blobs[index];
  if (blob === undefined) throw new Error(`no blob ${index}`);
  const res = await fetch(`${pullgate.url}/v2/${repo}/blobs/${blob.digest}`);
  expect(res.status).toBe(200);
  expect(sha256(Buffer.from(await res.arrayBuffer()))).toBe(blob.digest);
  // Distinct last-use times, so the LRU order is the order of these calls.
  await new Promise((r) => setTimeout(r, 30));
}

async function onDisk(): Promise<{ names: Set<string>; bytes: number }> {
  const dir = join(pullgate.dataDir, 'cache', 'blobs', 'sha256');
  const names = await readdir(dir);
  let bytes = 0;
  for (const name of names) bytes += (await stat(join(dir, name))).size;
  return { names: new Set(names), bytes };
}

const cached = (names: Set<string>, index: number) =>
  names.has((blobs[index]?.digest ?? '').slice('sha256:'.length));

describe('eviction under the cache cap', () => {
  it('keeps the total under the cap, drops the least recently used, and refetches it on demand', async () => {
    await pull(0);
    await pull(1);
    await pull(2);
    // Blob 0 is used again: now blob 1 is the least recently used.
    await pull(0);
    await pull(3);
    await pull(4);

    // Eviction runs just after each commit.
    await waitUntil(async () => (await onDisk()).bytes <= capBytes, {
      timeoutMs: 5_000,
      what: 'the cache to shrink under its cap',
    });
    const after = await onDisk();
    expect(after.bytes).toBeLessThanOrEqual(capBytes);
    expect(cached(after.names, 1)).toBe(false);
    expect(cached(after.names, 2)).toBe(false);
    expect(cached(after.names, 0)).toBe(true);
    expect(cached(after.names, 3)).toBe(true);
    expect(cached(after.names, 4)).toBe(true);

    await pull(1);
    const gets = async (i: number) =>
      (await upstream.accessLog()).filter(
        (e) => e.method === 'GET' && e.path === `/v2/${repo}/blobs/${blobs[i]?.digest}`,
      ).length;
    // Access log lines land just after each response.
    await waitUntil(async () => (await gets(1)) === 2, { timeoutMs: 5_000, what: 'the refetch of blob 1' });
    expect(await gets(0)).toBe(1);
    await waitUntil(async () => cached((await onDisk()).names, 1), { what: 'the refetched blob cached' });
    expect((await onDisk()).bytes).toBeLessThanOrEqual(capBytes);
  });
});
