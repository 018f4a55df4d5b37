import { randomBytes } from 'node:crypto';
import { readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { putBlob } from '../../helpers/images.js';
import { waitUntil } from '../../helpers/proc.js';
import { type Pullgate, startPullgate } from '../../helpers/pullgate.js';
import { type Registry, startRegistry } from '../../helpers/registry.js';

// A client that leaves in the middle of a large blob served from the cache releases the file: the descriptor
// is closed and the blob can be evicted again. A blob held "in use" by a client long gone would pin it against
// eviction for the life of the process (issue 6, "a size cap with least-recently-used eviction").
const repo = 'library/app';
const largeBytes = 16 * 1024 * 1024;
const smallBytes = 2 * 1024 * 1024;
let upstream: Registry;
let pullgate: Pullgate;
let large: string;
let small: string;

beforeAll(async () => {
  upstream = await startRegistry();
  large = await putBlob(upstream, repo, randomBytes(largeBytes));
  small = await putBlob(upstream, repo, randomBytes(smallBytes));
  pullgate = await startPullgate({
    // Room for the large blob, not for both: caching the small one must evict the large one.
    env: { PULLGATE_UPSTREAM: upstream.url, PULLGATE_CACHE_MAX_BYTES: String(largeBytes + smallBytes / 2) },
  });
});
afterAll(async () => {
  await pullgate?.stop();
  await upstream?.stop();
});

const cachePath = (digest: string) =>
  join(pullgate.dataDir, 'cache', 'blobs', 'sha256', digest.slice('sha256:'.length));

/** Descriptors this process holds on `path` (pullgate runs in the test process). */
async function openDescriptors(path: string): Promise<number> {
  let count = 0;
  for (const fd of await readdir('/proc/self/fd')) {
    const target = await readlink(join('/proc/self/fd', fd)).catch(() => '');
    if (target === path) count++;
  }
  return count;
}

async function cached(digest: string): Promise<boolean> {
  return (await readdir(join(pullgate.dataDir, 'cache', 'blobs', 'sha256'))).includes(
    digest.slice('sha256:'.length),
  );
}

describe('a client leaving a read from the cache', () => {
  it('closes the file and leaves the blob evictable', async () => {
    const fill = await fetch(`${pullgate.url}/v2/${repo}/blobs/${large}`);
    expect((await fill.arrayBuffer()).byteLength).toBe(largeBytes);
    await waitUntil(() => cached(large), { what: 'the large blob cached' });

    const controller = new AbortController();
    const res = await fetch(`${pullgate.url}/v2/${repo}/blobs/${large}`, { signal: controller.signal });
    expect(res.status).toBe(200);
    await res.body?.getReader().read();
    controller.abort();

    await waitUntil(async () => (await openDescriptors(cachePath(large))) === 0, {
      timeoutMs: 5_000,
      what: 'the cached file to be closed after the client left',
    });

    await new Promise((r) => setTimeout(r, 30));
    const next = await fetch(`${pullgate.url}/v2/${repo}/blobs/${small}`);
    expect((await next.arrayBuffer()).byteLength).toBe(smallBytes);
    // The large blob is the least recently used and nobody reads it: it is the one evicted.
    await waitUntil(async () => !(await cached(large)), {
      timeoutMs: 5_000,
      what: 'the large blob to be evicted',
    });
    expect(await cached(small)).toBe(true);
  });
});
