import { createHash, randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchManifest, MEDIA_TYPE, pushImage, putBlob, testImages } from '../../helpers/images.js';
import { type Pullgate, startPullgate } from '../../helpers/pullgate.js';
import { type Registry, startRegistry } from '../../helpers/registry.js';
import { makeTempDir, type TempDir } from '../../helpers/tmp.js';

// With the real upstream stopped: by-digest pulls are served from the cache, by-tag pulls get the last known
// digest with a Warning and a decision recorded as stale, and only what was never cached fails, with a clear
// UNAVAILABLE (issue 6, "Upstream down or rate-limiting"). PULLGATE_TAG_TTL=0 makes every by-tag pull ask the
// upstream, so the outage is seen.
const repo = 'library/app';
let upstream: Registry;
let dataDir: TempDir;
let pullgate: Pullgate;
let digest: string;
let blobs: string[];
let neverPulledBlob: string;
const env = () => ({ PULLGATE_UPSTREAM: upstream.url, PULLGATE_TAG_TTL: '0' });

const sha256 = (b: Uint8Array) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

async function manifest(p: Pullgate, reference: string): Promise<Response> {
  return fetch(`${p.url}/v2/${repo}/manifests/${reference}`, { headers: { accept: MEDIA_TYPE.ociManifest } });
}

async function expectImage(p: Pullgate, reference: string): Promise<Response> {
  const res = await manifest(p, reference);
  const body = Buffer.from(await res.arrayBuffer());
  expect(res.status, body.toString()).toBe(200);
  expect(sha256(body)).toBe(digest);
  for (const blob of blobs) {
    const b = await fetch(`${p.url}/v2/${repo}/blobs/${blob}`);
    expect(b.status).toBe(200);
    expect(sha256(Buffer.from(await b.arrayBuffer()))).toBe(blob);
  }
  return res;
}

async function expectUnavailable(res: Response): Promise<void> {
  const body = (await res.json()) as { errors?: { code: string; message: string }[] };
  expect([502, 503]).toContain(res.status);
  expect(body.errors?.[0]?.code).toBe('UNAVAILABLE');
  expect(body.errors?.[0]?.message).toMatch(/upstream/);
}

beforeAll(async () => {
  upstream = await startRegistry();
  const layout = await testImages();
  digest = await pushImage(layout.dir, 'nonroot', upstream, repo, 'nonroot');
  await pushImage(layout.dir, 'nonroot-arm64', upstream, repo, 'never-pulled');
  neverPulledBlob = await putBlob(upstream, repo, randomBytes(64 * 1024));
  const parsed = JSON.parse((await fetchManifest(upstream, repo, digest)).body.toString()) as {
    config: { digest: string };
    layers: { digest: string }[];
  };
  blobs = [parsed.config.digest, ...parsed.layers.map((l) => l.digest)];
  dataDir = await makeTempDir('pullgate-outage');
  pullgate = await startPullgate({ env: env(), dataDir: dataDir.path });
  // Warm: by tag (resolution remembered) and by digest (manifest and blobs cached).
  const byTag = await manifest(pullgate, 'nonroot');
  expect(byTag.status).toBe(200);
  await byTag.arrayBuffer();
  await expectImage(pullgate, digest);
  await upstream.stop();
});
afterAll(async () => {
  await pullgate?.stop();
  await upstream?.stop();
  await dataDir?.cleanup();
});

describe('the upstream stopped', () => {
  it('serves a pull by digest, manifest and blobs, from the cache', async () => {
    const res = await expectImage(pullgate, digest);
    expect(res.headers.get('warning')).toBeNull();
  });

  it('serves a pull by tag with the last known digest, a Warning, and a stale decision record', async () => {
    const res = await expectImage(pullgate, 'nonroot');
    expect(res.headers.get('docker-content-digest')).toBe(digest);
    expect(res.headers.get('warning')).toMatch(/^299 - ".*upstream unavailable.*"$/);
    const auditDir = join(dataDir.path, 'audit');
    const lines: string[] = [];
    for (const name of await readdir(auditDir)) {
      if (name.endsWith('.jsonl')) lines.push(...(await readFile(join(auditDir, name), 'utf8')).split('\n'));
    }
    const stale = lines.filter((l) => l.includes('"source":"stale"') && l.includes('"reference":"nonroot"'));
    expect(stale.length).toBeGreaterThanOrEqual(1);
  });

  it('answers UNAVAILABLE for a tag, a manifest and a blob never cached', async () => {
    await expectUnavailable(await manifest(pullgate, 'never-pulled'));
    await expectUnavailable(await manifest(pullgate, `sha256:${'c'.repeat(64)}`));
    await expectUnavailable(await fetch(`${pullgate.url}/v2/${repo}/blobs/${neverPulledBlob}`));
  });

  it('still serves a pull by digest after a restart on the same cache', async () => {
    // "A pinned digest must also stay servable after the upstream has moved on" (issue 6).
    await pullgate.stop();
    pullgate = await startPullgate({ env: env(), dataDir: dataDir.path });
    await expectImage(pullgate, digest);
  });

  it('still serves a pull by tag, stale with a Warning, after a restart on the same cache', async () => {
    // The restarted process has no tag answer in memory; what it knows is on disk (tag history, cache).
    const res = await expectImage(pullgate, 'nonroot');
    expect(res.headers.get('docker-content-digest')).toBe(digest);
    expect(res.headers.get('warning')).toMatch(/^299 - ".*upstream unavailable.*"$/);
  });
});
