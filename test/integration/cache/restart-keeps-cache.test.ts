import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchManifest, MEDIA_TYPE, pushImage, testImages } from '../../helpers/images.js';
import { type Pullgate, startPullgate } from '../../helpers/pullgate.js';
import { type AccessLogEntry, type Registry, startRegistry } from '../../helpers/registry.js';
import { makeTempDir, type TempDir } from '../../helpers/tmp.js';

// The blob cache and the manifests cached by digest live under the data directory, so a restarted pullgate
// on the same directory serves a pulled image without asking the upstream for any of its bytes again
// (issue 6, "it survives restarts"; "Manifests and image configs cached by digest").
const repo = 'library/app';
let upstream: Registry;
let dataDir: TempDir;
let digest: string;
let blobs: string[];
const started: Pullgate[] = [];

beforeAll(async () => {
  upstream = await startRegistry();
  const layout = await testImages();
  digest = await pushImage(layout.dir, 'nonroot', upstream, repo, 'nonroot');
  const manifest = JSON.parse((await fetchManifest(upstream, repo, digest)).body.toString()) as {
    config: { digest: string };
    layers: { digest: string }[];
  };
  blobs = [manifest.config.digest, ...manifest.layers.map((l) => l.digest)];
  dataDir = await makeTempDir('pullgate-restart');
});
afterAll(async () => {
  for (const p of started) await p.stop();
  await upstream?.stop();
  await dataDir?.cleanup();
});

const sha256 = (b: Uint8Array) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

async function start(): Promise<Pullgate> {
  const pullgate = await startPullgate({ env: { PULLGATE_UPSTREAM: upstream.url }, dataDir: dataDir.path });
  started.push(pullgate);
  return pullgate;
}

/** A pull by digest as a client makes it: the manifest, then every blob it names; all bytes verified. */
async function pullByDigest(pullgate: Pullgate): Promise<void> {
  const res = await fetch(`${pullgate.url}/v2/${repo}/manifests/${digest}`, {
    headers: { accept: MEDIA_TYPE.ociManifest },
  });
  expect(res.status).toBe(200);
  expect(sha256(Buffer.from(await res.arrayBuffer()))).toBe(digest);
  for (const blob of blobs) {
    const b = await fetch(`${pullgate.url}/v2/${repo}/blobs/${blob}`);
    expect(b.status).toBe(200);
    expect(sha256(Buffer.from(await b.arrayBuffer()))).toBe(blob);
  }
}

const getsOf = (log: AccessLogEntry[], paths: string[]) =>
  log.filter((e) => e.method === 'GET' && paths.includes(e.path)).map((e) => `${e.method} ${e.path}`);

describe('a restart keeps the cache', () => {
  let after: AccessLogEntry[];
  beforeAll(async () => {
    const first = await start();
    await pullByDigest(first);
    const lastBlob = blobs[blobs.length - 1];
    await upstream.waitForAccess((e) => e.method === 'GET' && e.path === `/v2/${repo}/blobs/${lastBlob}`);
    await first.stop();
    // Lines land just after their response: let any straggler in before taking the baseline.
    await new Promise((r) => setTimeout(r, 200));
    const before = (await upstream.accessLog()).length;

    const second = await start();
    await pullByDigest(second);
    await new Promise((r) => setTimeout(r, 300));
    after = (await upstream.accessLog()).slice(before);
  });

  it('serves the manifest by digest and the layers from disk, with no upstream GET', () => {
    const layers = blobs.slice(1).map((b) => `/v2/${repo}/blobs/${b}`);
    expect(getsOf(after, [`/v2/${repo}/manifests/${digest}`, ...layers])).toEqual([]);
  });

  it('judges and serves the image config without fetching it from the upstream again', () => {
    // The config is a blob the client pulls too, and it is on disk; issue 6 item 2 caches configs by digest.
    expect(getsOf(after, [`/v2/${repo}/blobs/${blobs[0]}`])).toEqual([]);
  });
});
