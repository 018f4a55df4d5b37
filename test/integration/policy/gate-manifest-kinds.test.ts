import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigFetcher } from '../../../src/cache/config-fetcher.js';
import { ManifestCache } from '../../../src/cache/manifest-cache.js';
import { ManifestService } from '../../../src/cache/manifest-service.js';
import { loadConfig } from '../../../src/config/config.js';
import { requireDigest } from '../../../src/oci/digest.js';
import { defaultManifestAccept, mediaType } from '../../../src/oci/media-types.js';
import { PolicyEngine } from '../../../src/policy/loader/engine.js';
import { parsePolicyFiles } from '../../../src/policy/loader/load.js';
import { PolicyGate } from '../../../src/pull/judge-manifest.js';
import type { Verdict } from '../../../src/pull/verdict.js';
import { UpstreamClient } from '../../../src/upstream/client.js';
import type { UpstreamRepository } from '../../../src/upstream/router.js';
import { fetchManifest, pushImage, putBlob, putManifest, testImages } from '../../helpers/images.js';
import { type Registry, startRegistry } from '../../helpers/registry.js';

const REPO = 'acme/app';
let upstream: Registry;
let client: UpstreamClient;
let manifests: ManifestService;
let route: UpstreamRepository;
const digests: Record<string, string> = {};

function gateFor(yaml: string): PolicyGate {
  const set = parsePolicyFiles([{ file: 'test.yaml', text: yaml }]);
  return new PolicyGate(PolicyEngine.fixed(set), {
    manifests,
    configs: new ConfigFetcher(8 * 1024 * 1024),
    now: () => new Date('2026-06-01T00:00:00Z'),
  });
}

const header = 'apiVersion: pullgate/v1\nkind: Policy\nname: p\n';
const enforceRoot = `${header}rules:\n  run-as-root: {mode: enforce}\n`;

async function judge(gate: PolicyGate, digest: string, user?: string): Promise<Verdict> {
  const manifest = await manifests.getByDigest(route, requireDigest(digest), defaultManifestAccept);
  return gate.judge({
    route,
    name: REPO,
    reference: { kind: 'digest', digest: requireDigest(digest) },
    manifest,
    client: { address: '127.0.0.1', user, userAgent: 'test' },
    signal: new AbortController().signal,
  });
}

beforeAll(async () => {
  upstream = await startRegistry();
  const layout = await testImages();
  digests.root = await pushImage(layout.dir, 'root', upstream, REPO, 'root');
  digests.nonroot = await pushImage(layout.dir, 'nonroot', upstream, REPO, 'nonroot');
  const descriptor = async (digest: string) => ({
    mediaType: mediaType.ociManifest,
    digest,
    size: (await fetchManifest(upstream, REPO, digest)).body.length,
  });
  // An index whose amd64 image runs as root, plus an attestation entry that must not be judged.
  const index = JSON.stringify({
    schemaVersion: 2,
    mediaType: mediaType.ociIndex,
    manifests: [
      { ...(await descriptor(digests.root)), platform: { os: 'linux', architecture: 'amd64' } },
      {
        ...(await descriptor(digests.nonroot)),
        platform: { os: 'linux', architecture: 'arm64', variant: 'v8' },
      },
      {
        ...(await descriptor(digests.root)),
        platform: { os: 'unknown', architecture: 'unknown' },
        annotations: { 'vnd.docker.reference.type': 'attestation-manifest' },
      },
    ],
  });
  digests.index = await putManifest(upstream, REPO, 'mixed', index, mediaType.ociIndex);
  // A Helm-chart-like artifact: its config is not an image config.
  const chartConfig = JSON.stringify({ name: 'demo', version: '0.1.0', apiVersion: 'v2' });
  const chartLayer = 'not really a tarball';
  const configDigest = await putBlob(upstream, REPO, chartConfig);
  const layerDigest = await putBlob(upstream, REPO, chartLayer);
  const chart = JSON.stringify({
    schemaVersion: 2,
    mediaType: mediaType.ociManifest,
    config: {
      mediaType: 'application/vnd.cncf.helm.config.v1+json',
      digest: configDigest,
      size: chartConfig.length,
    },
    layers: [
      {
        mediaType: 'application/vnd.cncf.helm.chart.content.v1.tar+gzip',
        digest: layerDigest,
        size: chartLayer.length,
      },
    ],
  });
  digests.chart = await putManifest(upstream, REPO, 'chart', chart, mediaType.ociManifest);

  const config = loadConfig({ PULLGATE_UPSTREAM: upstream.url, PULLGATE_LOG_LEVEL: 'silent' });
  client = new UpstreamClient(config.defaultUpstream, { timeouts: config.upstreamTimeouts });
  route = { upstream: client, repository: REPO };
  manifests = new ManifestService({
    manifestMaxBytes: 4 << 20,
    cache: new ManifestCache(undefined),
    tagTtlSeconds: () => 0,
  });
});
afterAll(async () => {
  manifests?.close();
  await client?.close();
  await upstream?.stop();
});

// The gate judges an index by its platform images (attestations skipped), leaves non-image artifacts alone unless
// a policy asks, and caches decisions per digest, policy version and scope.
describe('PolicyGate over manifest kinds', () => {
  it('refuses an index when one platform runs as root, naming the platform', async () => {
    const gate = gateFor(enforceRoot);
    const verdict = await judge(gate, digests.index ?? '');
    expect(verdict).toMatchObject({
      kind: 'deny',
      message: 'run-as-root: image config has no USER (runs as root) [linux/amd64]',
      findings: [{ rule: 'run-as-root', platform: 'linux/amd64', mode: 'enforce' }],
    });
    gate.close();
  });

  it('serves a non-image artifact unless a policy says to judge artifacts', async () => {
    const ignore = gateFor(enforceRoot);
    expect((await judge(ignore, digests.chart ?? '')).kind).toBe('allow');
    const judgeArtifacts = gateFor(`${enforceRoot}artifacts: judge\n`);
    const verdict = await judge(judgeArtifacts, digests.chart ?? '');
    expect(verdict.kind).toBe('deny');
    ignore.close();
    judgeArtifacts.close();
  });

  it('a repeat pull costs no second evaluation; a client in another scope gets its own decision', async () => {
    const gate = gateFor(enforceRoot);
    const first = await judge(gate, digests.root ?? '');
    const again = await judge(gate, digests.root ?? '');
    expect(first).toMatchObject({ kind: 'deny', policy: { cached: false, names: ['p'] } });
    expect(again).toMatchObject({ kind: 'deny', policy: { cached: true, version: first.policy?.version } });
    expect(gate.evaluationCount).toBe(1);
    gate.close();

    const scoped = new PolicyGate(
      PolicyEngine.fixed(
        parsePolicyFiles([
          { file: 'a.yaml', text: enforceRoot },
          {
            file: 'b.yaml',
            text: 'apiVersion: pullgate/v1\nkind: Policy\nname: ci\npriority: 5\nscope:\n  clients:\n    users: [ci]\nrules:\n  run-as-root: {mode: audit}\n',
          },
        ]),
      ),
      { manifests, configs: new ConfigFetcher(1 << 20), now: () => new Date() },
    );
    expect((await judge(scoped, digests.root ?? '')).kind).toBe('deny');
    expect((await judge(scoped, digests.root ?? '', 'ci')).kind).toBe('warn');
    expect((await judge(scoped, digests.root ?? '', 'someone')).kind).toBe('deny');
    expect(scoped.evaluationCount).toBe(2);
    scoped.close();
  });
});
