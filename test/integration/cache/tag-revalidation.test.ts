import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MEDIA_TYPE, pushImage, testImages } from '../../helpers/images.js';
import { type Pullgate, startPullgate } from '../../helpers/pullgate.js';
import { type AccessLogEntry, type Registry, startRegistry } from '../../helpers/registry.js';

// After the tag window (PULLGATE_TAG_TTL) a by-tag request revalidates with exactly one HEAD, and makes no GET
// when the digest has not changed: the manifest comes from the cache by digest (issue 6, "Tag revalidation").
// Counted on the real registry's access log.
const repo = 'library/app';
let upstream: Registry;
let pullgate: Pullgate;
let digest: string;

beforeAll(async () => {
  upstream = await startRegistry();
  const layout = await testImages();
  digest = await pushImage(layout.dir, 'nonroot', upstream, repo, 'nonroot');
  pullgate = await startPullgate({ env: { PULLGATE_UPSTREAM: upstream.url, PULLGATE_TAG_TTL: '1' } });
});
afterAll(async () => {
  await pullgate?.stop();
  await upstream?.stop();
});

async function pullByTag(): Promise<void> {
  const res = await fetch(`${pullgate.url}/v2/${repo}/manifests/nonroot`, {
    headers: { accept: MEDIA_TYPE.ociManifest },
  });
  expect(res.status).toBe(200);
  expect(res.headers.get('docker-content-digest')).toBe(digest);
  await res.arrayBuffer();
}

const manifestRequests = (log: AccessLogEntry[]) =>
  log.filter((e) => e.path.startsWith(`/v2/${repo}/manifests/`)).map((e) => `${e.method} ${e.path}`);

describe('tag revalidation after the window', () => {
  it('makes exactly one HEAD and no GET when the digest did not change', async () => {
    await pullByTag();
    await upstream.waitForAccess((e) => e.method === 'GET' && e.path === `/v2/${repo}/manifests/${digest}`);
    // Past the 1 s window, with margin for node-cache's whole-second expiry.
    await new Promise((r) => setTimeout(r, 1_500));
    const before = (await upstream.accessLog()).length;

    for (let i = 0; i < 5; i++) await pullByTag();
    // Lines land just after their response; give a stray GET the time to show up.
    await new Promise((r) => setTimeout(r, 300));
    const after = (await upstream.accessLog()).slice(before);
    expect(manifestRequests(after)).toEqual([`HEAD /v2/${repo}/manifests/nonroot`]);
    // Nor did the first, cold pull GET by tag: tags are resolved with HEAD, bytes fetched by digest.
    const all = manifestRequests(await upstream.accessLog());
    expect(all.filter((r) => r === `GET /v2/${repo}/manifests/nonroot`)).toEqual([]);
  });
});
