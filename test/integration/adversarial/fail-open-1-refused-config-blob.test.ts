import { copyFile, mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  fetchManifest,
  PLANTED_AWS_SECRET,
  pushImage,
  type SeededImages,
  seedRegistry,
} from '../../helpers/images.js';
import { type Pullgate, startPullgate } from '../../helpers/pullgate.js';
import { type Registry, startRegistry } from '../../helpers/registry.js';
import { makeTempDir, type TempDir } from '../../helpers/tmp.js';

// Issue 10, path 1: a refused image's config blob (which holds the secret) must never be served by digest nor
// written to disk — not after a restart, not by a replica that has not judged the manifest, not when asked for
// before (or without) its manifest. Layers are unaffected.
let upstream: Registry;
let seeded: SeededImages;
let data: TempDir;
const started: Pullgate[] = [];
let secretConfig: string;
let rootConfig: string;
let secretLayer: string;

async function configOf(tag: 'secretenv' | 'root'): Promise<{ config: string; layer: string }> {
  const m = JSON.parse((await fetchManifest(upstream, seeded.repo, tag)).body.toString('utf8')) as {
    config: { digest: string };
    layers: { digest: string }[];
  };
  return { config: m.config.digest, layer: m.layers[0]?.digest ?? '' };
}

async function pullgateOn(dataDir?: string, env: Record<string, string> = {}): Promise<Pullgate> {
  const p = await startPullgate({
    env: { PULLGATE_UPSTREAM: upstream.url, ...env },
    ...(dataDir ? { dataDir } : {}),
  });
  started.push(p);
  return p;
}

beforeAll(async () => {
  upstream = await startRegistry();
  seeded = await seedRegistry(upstream);
  ({ config: secretConfig, layer: secretLayer } = await configOf('secretenv'));
  ({ config: rootConfig } = await configOf('root'));
  data = await makeTempDir('pullgate-refused-config');
});
afterAll(async () => {
  for (const p of started) await p.stop();
  await data?.cleanup();
  await upstream?.stop();
});

async function getBlob(p: Pullgate, digest: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`${p.url}/v2/library/app/blobs/${digest}`);
  return { status: res.status, body: await res.text().catch(() => '') };
}

async function cachedBlobs(dataDir: string): Promise<string[]> {
  return readdir(join(dataDir, 'cache', 'blobs', 'sha256')).catch(() => []);
}

describe('a refused image config blob', () => {
  it('is not served after a restart of the pullgate that refused the image', async () => {
    const first = await pullgateOn(data.path);
    expect((await fetch(`${first.url}/v2/library/app/manifests/secretenv`)).status).toBe(403);
    await first.stop();
    const restarted = await pullgateOn(data.path);
    const blob = await getBlob(restarted, secretConfig);
    expect(blob.status).not.toBe(200);
    expect(blob.body.includes(PLANTED_AWS_SECRET)).toBe(false);
  });

  it('is not served when asked for before, or without, its manifest (another replica)', async () => {
    const replica = await pullgateOn();
    for (const digest of [secretConfig, rootConfig]) {
      const blob = await getBlob(replica, digest);
      expect(blob.status, digest).not.toBe(200);
      expect(blob.body.includes(PLANTED_AWS_SECRET)).toBe(false);
    }
  });

  it('is never written to the blob cache', async () => {
    const replica = await pullgateOn();
    await getBlob(replica, secretConfig);
    await getBlob(replica, rootConfig);
    await new Promise((r) => setTimeout(r, 200));
    const cached = await cachedBlobs(replica.dataDir);
    expect(cached).not.toContain(secretConfig.slice('sha256:'.length));
    expect(cached).not.toContain(rootConfig.slice('sha256:'.length));
    expect(await cachedBlobs(data.path)).not.toContain(secretConfig.slice('sha256:'.length));
  });

  it('is not served by its repository alone when only a tag-scoped policy would let its image through', async () => {
    // dev-* tags of library/app only audit secret-env; default.yaml enforces it. A blob request names no tag, so the
    // strictest reading of the policies matching the repository applies: refused.
    const policies = join(data.path, 'policies-dev-audit');
    await mkdir(policies);
    await copyFile('policies/default.yaml', join(policies, 'default.yaml'));
    await writeFile(
      join(policies, 'dev-audit.yaml'),
      [
        'apiVersion: pullgate/v1',
        'kind: Policy',
        'name: dev-audit',
        'priority: 20',
        'scope:',
        '  repositories: ["library/app"]',
        '  tags: ["dev-*"]',
        'rules:',
        '  secret-env:',
        '    mode: audit',
        '',
      ].join('\n'),
    );
    await pushImage(seeded.layout.dir, 'secretenv', upstream, seeded.repo, 'dev-1');
    // The tag-scoped policy is in force: another replica serves the dev-1 manifest (secret-env only audited).
    const other = await pullgateOn(undefined, { PULLGATE_POLICY_DIR: policies });
    expect((await fetch(`${other.url}/v2/library/app/manifests/dev-1`)).status).toBe(200);
    const replica = await pullgateOn(undefined, { PULLGATE_POLICY_DIR: policies });
    const blob = await getBlob(replica, secretConfig);
    expect(blob.status).not.toBe(200);
    expect(blob.body.includes(PLANTED_AWS_SECRET)).toBe(false);
  });

  it('leaves layers alone: a layer of the refused image is still served', async () => {
    const replica = await pullgateOn();
    expect((await getBlob(replica, secretLayer)).status).toBe(200);
  });
});
