import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { buildApp } from '../../../src/app.js';
import { ConfigFetcher } from '../../../src/cache/config-fetcher.js';
import { ManifestCache } from '../../../src/cache/manifest-cache.js';
import { ManifestService } from '../../../src/cache/manifest-service.js';
import { loadConfig } from '../../../src/config/config.js';
import { PolicyEngine } from '../../../src/policy/loader/engine.js';
import { PolicyGate } from '../../../src/pull/judge-manifest.js';
import {
  fetchManifest,
  PLANTED_AWS_SECRET,
  PLANTED_AWS_SECRET_KEY,
  pushImage,
  pushOciIndex,
  testImages,
} from '../../helpers/images.js';
import { type Registry, startRegistry } from '../../helpers/registry.js';
import { makeTempDir, type TempDir } from '../../helpers/tmp.js';

const REPO = 'library/app';
const policyDoc = (mode: 'enforce' | 'audit') => ({
  apiVersion: 'pullgate/v1',
  kind: 'Policy',
  name: `all-${mode}`,
  rules: { 'run-as-root': { mode }, 'secret-env': { mode }, 'secret-history': { mode } },
});

interface Proxy {
  app: FastifyInstance;
  url: string;
  gate: PolicyGate;
  engine: PolicyEngine;
  manifests: ManifestService;
}

let upstream: Registry;
let tmp: TempDir;
const proxies: Proxy[] = [];

/** The real app in front of the real registry, judged by a PolicyGate over a policy directory. */
async function startProxy(mode: 'enforce' | 'audit'): Promise<Proxy> {
  const base = join(tmp.path, mode);
  await mkdir(join(base, 'policies'), { recursive: true });
  await writeFile(join(base, 'policies', 'all.yaml'), stringify(policyDoc(mode)));
  const config = loadConfig({
    PULLGATE_UPSTREAM: upstream.url,
    PULLGATE_DATA_DIR: join(base, 'data'),
    PULLGATE_POLICY_DIR: join(base, 'policies'),
    PULLGATE_LOG_LEVEL: 'silent',
  });
  const engine = await PolicyEngine.create({ dir: config.policyDir });
  const manifests = new ManifestService({
    manifestMaxBytes: config.manifestMaxBytes,
    cache: new ManifestCache(undefined),
    tagTtlSeconds: () => 0,
  });
  const gate = new PolicyGate(engine, {
    manifests,
    configs: new ConfigFetcher(config.configMaxBytes),
    now: () => new Date(),
  });
  const app = await buildApp(config, { gate, logger: { level: 'error' } });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  const proxy = { app, url: `http://127.0.0.1:${port}`, gate, engine, manifests };
  proxies.push(proxy);
  return proxy;
}

const ACCEPT =
  'application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json';

beforeAll(async () => {
  tmp = await makeTempDir('policy-gate');
  upstream = await startRegistry();
  const layout = await testImages();
  for (const tag of ['root', 'secretenv', 'nonroot'] as const)
    await pushImage(layout.dir, tag, upstream, REPO, tag);
  await pushOciIndex(layout.dir, upstream, REPO, 'multi');
});
afterAll(async () => {
  for (const p of proxies) {
    await p.app.close();
    p.gate.close();
    p.engine.close();
    p.manifests.close();
  }
  await upstream?.stop();
  await tmp?.cleanup();
});

// With policies on, the proxy refuses root and secret-carrying images with a readable DENIED, and serves
// the same images under an audit-mode policy with a Warning header.
describe('policy gate in front of a real registry', () => {
  it('enforce: refuses a root image with 403 DENIED naming the rule, on GET and HEAD', async () => {
    const proxy = await startProxy('enforce');
    const res = await fetch(`${proxy.url}/v2/${REPO}/manifests/root`, { headers: { accept: ACCEPT } });
    expect(res.status).toBe(403);
    const body = (await res.json()) as { errors: { code: string; message: string; detail: unknown }[] };
    expect(body.errors[0]).toMatchObject({
      code: 'DENIED',
      message: 'run-as-root: image config has no USER (runs as root)',
      detail: { findings: [{ rule: 'run-as-root' }] },
    });
    const head = await fetch(`${proxy.url}/v2/${REPO}/manifests/root`, {
      method: 'HEAD',
      headers: { accept: ACCEPT },
    });
    // HEAD and GET agree from one evaluation: the second answer came from the decision cache. The route either
    // refuses the HEAD or (containerd shows no body for a HEAD) answers it and names the refusal for the GET.
    expect(proxy.gate.evaluationCount).toBe(1);
    if (head.status !== 403) {
      expect(head.status).toBe(200);
      expect(head.headers.get('warning')).toContain('run-as-root: image config has no USER (runs as root)');
    }

    const ok = await fetch(`${proxy.url}/v2/${REPO}/manifests/nonroot`, { headers: { accept: ACCEPT } });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('warning')).toBeNull();
    await ok.arrayBuffer();
    const index = await fetch(`${proxy.url}/v2/${REPO}/manifests/multi`, { headers: { accept: ACCEPT } });
    expect(index.status).toBe(200);
    await index.arrayBuffer();
  });

  it('enforce: a secret in Env is refused by name, the value never appears, and its config blob is refused', async () => {
    const proxy = await startProxy('enforce');
    const res = await fetch(`${proxy.url}/v2/${REPO}/manifests/secretenv`, { headers: { accept: ACCEPT } });
    expect(res.status).toBe(403);
    const text = await res.text();
    expect(text).toContain(`secret-env: ${PLANTED_AWS_SECRET_KEY}`);
    expect(text).not.toContain(PLANTED_AWS_SECRET);
    const manifest = JSON.parse((await fetchManifest(upstream, REPO, 'secretenv')).body.toString()) as {
      config: { digest: string };
    };
    const blob = await fetch(`${proxy.url}/v2/${REPO}/blobs/${manifest.config.digest}`);
    expect(blob.status).toBe(403);
    expect(await blob.text()).not.toContain(PLANTED_AWS_SECRET);
  });

  it('audit: serves the same root image with a Warning: 299 header naming the rule', async () => {
    const proxy = await startProxy('audit');
    const res = await fetch(`${proxy.url}/v2/${REPO}/manifests/root`, { headers: { accept: ACCEPT } });
    expect(res.status).toBe(200);
    expect(res.headers.get('docker-content-digest')).toMatch(/^sha256:/);
    expect(res.headers.get('warning')).toBe(
      '299 - "pullgate policy audit: run-as-root: image config has no USER (runs as root)"',
    );
    await res.arrayBuffer();
    const secret = await fetch(`${proxy.url}/v2/${REPO}/manifests/secretenv`, {
      method: 'HEAD',
      headers: { accept: ACCEPT },
    });
    expect(secret.status).toBe(200);
    expect(secret.headers.get('warning')).toContain(`secret-env: ${PLANTED_AWS_SECRET_KEY}`);
    expect(secret.headers.get('warning')).not.toContain(PLANTED_AWS_SECRET);
  });
});
