import { mkdtempSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryDecisions } from '../../../src/audit/index.js';
import {
  fetchManifest,
  PLANTED_AWS_SECRET,
  PLANTED_NPM_TOKEN,
  pushImage,
  type SeededImages,
  seedRegistry,
} from '../../helpers/images.js';
import { type Pullgate, startPullgate } from '../../helpers/pullgate.js';
import { type Registry, startRegistry } from '../../helpers/registry.js';

// Issue 10, path 1: the refusal of an image lived in a process-local set, so its config blob (which holds the
// secret) was served by digest after a restart, on another replica, or before its manifest, and kept on disk.
let upstream: Registry;
let seeded: SeededImages;
const started: Pullgate[] = [];
const work = mkdtempSync(join(tmpdir(), 'pullgate-test-config-blob-'));
const policyDir = join(work, 'policies');

beforeAll(async () => {
  upstream = await startRegistry();
  seeded = await seedRegistry(upstream);
  // The root image under a tag a tag-scoped policy lets through in audit mode (a CI build base).
  await pushImage(seeded.layout.dir, 'root', upstream, seeded.repo, 'build-1');
  await mkdir(policyDir, { recursive: true });
  await writeFile(
    join(policyDir, 'default.yaml'),
    [
      'apiVersion: pullgate/v1',
      'kind: Policy',
      'name: default',
      'rules:',
      '  run-as-root: { mode: enforce }',
      '  secret-env: { mode: enforce }',
      '  secret-history: { mode: enforce }',
    ].join('\n'),
  );
  await writeFile(
    join(policyDir, 'build-bases.yaml'),
    [
      'apiVersion: pullgate/v1',
      'kind: Policy',
      'name: build-bases',
      'priority: 10',
      'scope: { tags: ["build-*"] }',
      'rules:',
      '  run-as-root: { mode: audit }',
    ].join('\n'),
  );
});
afterAll(async () => {
  for (const p of started) await p.stop().catch(() => undefined);
  await upstream?.stop();
  await rm(work, { recursive: true, force: true });
});

async function pullgate(dataDir: string): Promise<Pullgate> {
  const p = await startPullgate({
    env: { PULLGATE_UPSTREAM: upstream.url, PULLGATE_POLICY_DIR: policyDir },
    dataDir,
  });
  started.push(p);
  return p;
}

async function configDigest(tag: string): Promise<string> {
  const m = JSON.parse((await fetchManifest(upstream, seeded.repo, tag)).body.toString()) as {
    config: { digest: string };
  };
  return m.config.digest;
}

/** Every file under the cache directory, read whole: nothing there may hold a planted secret. */
async function cacheHolds(dataDir: string, needle: string): Promise<boolean> {
  const dir = join(dataDir, 'cache');
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  for (const e of entries) {
    if (!e.isFile()) continue;
    const text = await readFile(join(e.parentPath, e.name), 'latin1');
    if (text.includes(needle)) return true;
  }
  return false;
}

const blob = (p: Pullgate, digest: string, headers: Record<string, string> = {}) =>
  fetch(`${p.url}/v2/${seeded.repo}/blobs/${digest}`, { headers });

describe('a refused image config asked for by digest', () => {
  it('is refused after a restart, and never written to the cache', async () => {
    const dataDir = join(work, 'restart');
    const first = await pullgate(dataDir);
    const manifest = await fetch(`${first.url}/v2/${seeded.repo}/manifests/secretenv`);
    expect(manifest.status).toBe(403);
    await manifest.arrayBuffer();
    await first.stop();

    const second = await pullgate(dataDir);
    const res = await blob(second, await configDigest('secretenv'));
    const text = await res.text();
    expect(res.status).toBe(403);
    expect(JSON.parse(text).errors[0].code).toBe('DENIED');
    expect(text).toContain('secret-env');
    expect(text).not.toContain(PLANTED_AWS_SECRET);
    expect(await cacheHolds(dataDir, PLANTED_AWS_SECRET)).toBe(false);
  });

  it('is refused before (and without) its manifest, whole and as a range', async () => {
    const p = await pullgate(join(work, 'first'));
    const digest = await configDigest('argleak');
    const whole = await blob(p, digest);
    expect(whole.status).toBe(403);
    expect(await whole.text()).not.toContain(PLANTED_NPM_TOKEN);
    const part = await blob(p, digest, { range: 'bytes=0-99' });
    expect(part.status).toBe(403);
    expect(await part.text()).not.toContain(PLANTED_NPM_TOKEN);
    expect(await cacheHolds(p.dataDir, PLANTED_NPM_TOKEN)).toBe(false);
    // Each refusal is a decision on the record, naming the rule.
    const { records } = await queryDecisions(join(p.dataDir, 'audit'));
    const refusals = records.filter((r) => r.digest === digest);
    expect(refusals).toHaveLength(2);
    for (const r of refusals) {
      expect(r).toMatchObject({ decision: 'deny', status: 403, reference: digest });
      expect(r.findings.map((f) => f.rule)).toContain('secret-history');
    }
    expect(JSON.stringify(refusals)).not.toContain(PLANTED_NPM_TOKEN);
  });

  it('is refused from the cache, where an earlier version may have left it', async () => {
    const dataDir = join(work, 'legacy');
    const digest = await configDigest('secretenv');
    const upstreamAnswer = await fetch(`${upstream.url}/v2/${seeded.repo}/blobs/${digest}`);
    const raw = Buffer.from(await upstreamAnswer.arrayBuffer());
    const [algorithm, encoded] = digest.split(':') as [string, string];
    await mkdir(join(dataDir, 'cache', 'blobs', algorithm), { recursive: true });
    await writeFile(join(dataDir, 'cache', 'blobs', algorithm, encoded), raw);
    expect(raw.toString()).toContain(PLANTED_AWS_SECRET);
    const p = await pullgate(dataDir);
    const res = await blob(p, digest);
    expect(res.status).toBe(403);
    expect(await res.text()).not.toContain(PLANTED_AWS_SECRET);
  });

  it('the config of an allowed image is served, and so is a layer', async () => {
    const p = await pullgate(join(work, 'allowed'));
    const digest = await configDigest('nonroot');
    const res = await blob(p, digest);
    expect(res.status).toBe(200);
    const body = Buffer.from(await res.arrayBuffer());
    expect(JSON.parse(body.toString()).config.User).toBe('1000:1000');
    const layers = JSON.parse((await fetchManifest(upstream, seeded.repo, 'nonroot')).body.toString()) as {
      layers: { digest: string }[];
    };
    const layer = await blob(p, layers.layers[0]?.digest ?? '');
    expect(layer.status).toBe(200);
    await layer.arrayBuffer();
  });

  it('is served to the client the gate allowed it for, by tag scope, also after a restart', async () => {
    const dataDir = join(work, 'allowance');
    const digest = await configDigest('root');
    const first = await pullgate(dataDir);
    // Without the tag, the strictest reading applies: the root image's config is refused.
    const before = await blob(first, digest);
    expect(before.status).toBe(403);
    await before.arrayBuffer();
    const manifest = await fetch(`${first.url}/v2/${seeded.repo}/manifests/build-1`);
    expect(manifest.status).toBe(200);
    expect(manifest.headers.get('warning')).toContain('run-as-root');
    await manifest.arrayBuffer();
    const after = await blob(first, digest);
    expect(after.status).toBe(200);
    await after.arrayBuffer();
    await first.stop();

    const second = await pullgate(dataDir);
    const again = await blob(second, digest);
    expect(again.status).toBe(200);
    await again.arrayBuffer();
  });
});
