import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  fetchManifest,
  MEDIA_TYPE,
  type SeededImages,
  seedRegistry,
  sha256Digest,
} from '../../helpers/images.js';
import { ociErrorCode, ociErrorProblem } from '../../helpers/oci-error-body.js';
import { type Pullgate, startPullgate } from '../../helpers/pullgate.js';
import { type Registry, startRegistry } from '../../helpers/registry.js';
import { makeTempDir, type TempDir } from '../../helpers/tmp.js';
import { mountTmpfs, type Tmpfs } from '../../helpers/tmpfs.js';

// The blob and manifest cache on a small tmpfs that the test fills to ENOSPC. A full cache still serves pulls
// (without caching) or answers 503 — never a cut or wrong transfer, never a partial or corrupt file left in the
// cache — and caches again, correctly, once space returns.
let upstream: Registry;
let seeded: SeededImages;
let data: TempDir;
let cacheFs: Tmpfs;
let pullgate: Pullgate;
/** The nonroot image's config and layer digests, and the big image's top layer (52 MiB, more than the tmpfs). */
let nonrootBlobs: string[];
let bigLayer: string;

beforeAll(async () => {
  upstream = await startRegistry();
  seeded = await seedRegistry(upstream);
  const blobsOf = async (tag: 'nonroot' | 'big') => {
    const m = JSON.parse((await fetchManifest(upstream, seeded.repo, tag)).body.toString('utf8')) as {
      config: { digest: string };
      layers: { digest: string }[];
    };
    return [m.config.digest, ...m.layers.map((l) => l.digest)];
  };
  nonrootBlobs = await blobsOf('nonroot');
  bigLayer = (await blobsOf('big')).at(-1) ?? '';
  data = await makeTempDir('pullgate-disk-full-cache');
  cacheFs = await mountTmpfs(join(data.path, 'cache'), 8 * 1024 * 1024);
  pullgate = await startPullgate({
    env: { PULLGATE_UPSTREAM: upstream.url, PULLGATE_TAG_TTL: '0' },
    dataDir: data.path,
  });
  await cacheFs.fill();
});
afterAll(async () => {
  await pullgate?.stop();
  await cacheFs?.unmount();
  await data?.cleanup();
  await upstream?.stop();
});

interface Pulled {
  status: number;
  body: Buffer;
  /** Set when the status line said 200 but the body was then cut. */
  cut?: string;
}

async function pull(path: string, accept?: string): Promise<Pulled> {
  const res = await fetch(`${pullgate.url}${path}`, accept === undefined ? {} : { headers: { accept } });
  try {
    return { status: res.status, body: Buffer.from(await res.arrayBuffer()) };
  } catch (err) {
    return { status: res.status, body: Buffer.alloc(0), cut: (err as Error).message };
  }
}

/** Served whole and right (the bytes hash to the digest), or refused with 503 and an OCI error; nothing else. */
function expectWholeOr503(pulled: Pulled, digest: string, what: string): void {
  if (pulled.status === 503) {
    expect(ociErrorProblem(pulled.body), what).toBeUndefined();
    expect(ociErrorCode(pulled.body), what).toBe('UNAVAILABLE');
    return;
  }
  expect(pulled.cut, `${what}: 200 then the transfer was cut`).toBeUndefined();
  expect(pulled.status, `${what}: ${pulled.body.toString('utf8').slice(0, 200)}`).toBe(200);
  expect(sha256Digest(pulled.body), what).toBe(digest);
}

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await filesUnder(path)));
    else if (entry.isFile()) out.push(path);
  }
  return out;
}

/** Every file in the cache is whole: blobs and manifests hash to their names, no temp file is left behind. */
async function expectCacheIntact(): Promise<number> {
  const cache = join(data.path, 'cache');
  expect(await readdir(join(cache, 'tmp'))).toEqual([]);
  let checked = 0;
  for (const file of await filesUnder(cache)) {
    const name = file.slice(cache.length + 1);
    if (name === '.filler') continue;
    const blob = /^blobs\/(sha256)\/([a-f0-9]{64})$/.exec(name);
    const manifest = /^manifests\/.+\/(sha256)-([a-f0-9]{64})$/.exec(name);
    const type = /^manifests\/.+\/sha256-[a-f0-9]{64}\.type$/.test(name);
    expect(blob !== null || manifest !== null || type, `unexpected file in the cache: ${name}`).toBe(true);
    const match = blob ?? manifest;
    if (match === null) continue;
    const hex = createHash('sha256')
      .update(await readFile(file))
      .digest('hex');
    expect(hex, `${name} does not hold the bytes its name says`).toBe(match[2]);
    checked++;
  }
  return checked;
}

describe('a full blob cache', () => {
  it('serves the manifest of an allowed image whole, or answers 503', async () => {
    const digest = seeded.digests.nonroot;
    expectWholeOr503(
      await pull(`/v2/library/app/manifests/nonroot`, MEDIA_TYPE.ociManifest),
      digest,
      'by tag',
    );
    expectWholeOr503(
      await pull(`/v2/library/app/manifests/${digest}`, MEDIA_TYPE.ociManifest),
      digest,
      'by digest',
    );
  });

  it('serves small blobs whole, or answers 503', async () => {
    for (const digest of nonrootBlobs) {
      expectWholeOr503(await pull(`/v2/library/app/blobs/${digest}`), digest, `blob ${digest}`);
    }
  });

  it('serves a blob bigger than the whole cache whole, or answers 503', async () => {
    expectWholeOr503(await pull(`/v2/library/app/blobs/${bigLayer}`), bigLayer, 'the 52 MiB layer');
  });

  it('leaves no partial or corrupt file in the cache', async () => {
    // Any fill that was going to fail has failed by now; give its clean-up a moment.
    await new Promise((r) => setTimeout(r, 300));
    await expectCacheIntact();
  });

  it('caches again, correctly, once space returns', async () => {
    await cacheFs.free();
    const config = nonrootBlobs[0] ?? '';
    expectWholeOr503(await pull(`/v2/library/app/blobs/${config}`), config, 'config after space returned');
    const layer = nonrootBlobs[1] ?? '';
    const pulled = await pull(`/v2/library/app/blobs/${layer}`);
    expect(pulled.status).toBe(200);
    expect(sha256Digest(pulled.body)).toBe(layer);
    const cachedLayer = join(data.path, 'cache', 'blobs', layer.replace(':', '/'));
    const deadline = Date.now() + 5000;
    let cached: Buffer | undefined;
    while (cached === undefined && Date.now() < deadline) {
      cached = await readFile(cachedLayer).catch(() => undefined);
      if (cached === undefined) await new Promise((r) => setTimeout(r, 50));
    }
    expect(cached === undefined ? undefined : sha256Digest(cached)).toBe(layer);
    expect(await expectCacheIntact()).toBeGreaterThan(0);
  });
});
