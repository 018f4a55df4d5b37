import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CraftedImage, craftImage } from '../../helpers/crafted-image.js';
import { type FaultServer, startFaultServer } from '../../helpers/fault-server.js';
import { PLANTED_AWS_SECRET, sha256Digest } from '../../helpers/images.js';
import { ociErrorProblem } from '../../helpers/oci-error-body.js';
import { type Pullgate, startPullgate } from '../../helpers/pullgate.js';

// The hostile-upstream matrix made generative: fast-check rewrites a root or secret image's manifest the ways an
// upstream could (Content-Type, the mediaType field, schemaVersion, extra or missing fields, formatting, the
// Docker-Content-Digest header) while it still names the refused image's config. Whatever pullgate makes of the
// bytes — an image manifest to judge, or something it does not understand — the answer is never a 200, every error
// is an OCI error body and the planted secret is in no answer. Each case gets its own repository on the in-process
// upstream, so no case meets another's cache. Seed and runs: PULLGATE_FUZZ_SEED, PULLGATE_FUZZ_UPSTREAM_RUNS.
const seed = Number(process.env.PULLGATE_FUZZ_SEED ?? 20261201);
const numRuns = Number(process.env.PULLGATE_FUZZ_UPSTREAM_RUNS ?? 150);
const UPSTREAM = 'hostile.test';

const images: Record<'root' | 'secret', Record<'oci' | 'docker', CraftedImage>> = {
  root: {
    oci: craftImage('root', { label: 'fuzz' }),
    docker: craftImage('root', { docker: true, label: 'fuzz' }),
  },
  secret: {
    oci: craftImage('secret', { label: 'fuzz' }),
    docker: craftImage('secret', { docker: true, label: 'fuzz' }),
  },
};

const MEDIA_TYPES = [
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.artifact.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v1+prettyjws',
];

const upstreamAnswer = fc.record({
  kind: fc.constantFrom('root' as const, 'secret' as const),
  format: fc.constantFrom('oci' as const, 'docker' as const),
  contentType: fc.oneof(
    fc.constantFrom(
      ...MEDIA_TYPES,
      'application/octet-stream',
      'text/html',
      'text/plain; charset=utf-8',
      'application/json',
      'application/vnd.oci.image.manifest.v1+json; charset=utf-8',
      'APPLICATION/VND.OCI.IMAGE.MANIFEST.V1+JSON',
      '',
    ),
    fc.constant(undefined),
    fc.string({ unit: 'grapheme-ascii', maxLength: 30 }).map((s) => s.replace(/[\r\n]/g, '')),
  ),
  mediaTypeField: fc.oneof(
    fc.constantFrom('keep', 'drop'),
    fc.constantFrom(...MEDIA_TYPES),
    fc.constantFrom(1, null, '', 'text/html'),
  ),
  schemaVersion: fc.constantFrom<unknown>('keep', 1, 3, '2', null, 'drop'),
  layers: fc.constantFrom('keep', 'empty', 'drop', 'twice'),
  extra: fc.subarray(['annotations', 'artifactType', 'subject', 'manifests', 'unknownField', 'configString']),
  formatting: fc.constantFrom('compact', 'pretty', 'bom', 'trailing-newline', 'leading-space'),
  digestHeader: fc.constantFrom('right', 'absent', 'wrong'),
});
type UpstreamAnswer = typeof upstreamAnswer extends fc.Arbitrary<infer T> ? T : never;

function manifestBytes(answer: UpstreamAnswer): Buffer {
  const image = images[answer.kind][answer.format];
  const m = JSON.parse(image.manifest.toString('utf8')) as Record<string, unknown>;
  if (answer.mediaTypeField === 'drop') delete m.mediaType;
  else if (answer.mediaTypeField !== 'keep') m.mediaType = answer.mediaTypeField;
  if (answer.schemaVersion === 'drop') delete m.schemaVersion;
  else if (answer.schemaVersion !== 'keep') m.schemaVersion = answer.schemaVersion;
  if (answer.layers === 'empty') m.layers = [];
  else if (answer.layers === 'drop') delete m.layers;
  else if (answer.layers === 'twice') m.layers = [...(m.layers as unknown[]), ...(m.layers as unknown[])];
  for (const e of answer.extra) {
    if (e === 'annotations') m.annotations = { 'org.opencontainers.image.title': 'fuzz' };
    if (e === 'artifactType') m.artifactType = 'application/vnd.example+type';
    if (e === 'subject') m.subject = { ...(m.config as object) };
    if (e === 'manifests') m.manifests = [];
    if (e === 'unknownField') m.x = { y: [1, 2, 3] };
    // `config` stays a descriptor of the refused config; a sibling field with the same digest as a string.
    if (e === 'configString') m.configDigest = image.configDigest;
  }
  const json = answer.formatting === 'pretty' ? JSON.stringify(m, null, 2) : JSON.stringify(m);
  switch (answer.formatting) {
    case 'bom':
      return Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(json)]);
    case 'trailing-newline':
      return Buffer.from(`${json}\n`);
    case 'leading-space':
      return Buffer.from(` ${json}`);
    default:
      return Buffer.from(json);
  }
}

const cases = new Map<string, { answer: UpstreamAnswer; bytes: Buffer }>();
let upstream: FaultServer;
let pullgate: Pullgate;

beforeAll(async () => {
  upstream = await startFaultServer((req, res) => {
    const [, v2, name, , kind, reference] = (req.url ?? '').split('?')[0]?.split('/') ?? [];
    const entry = cases.get(name ?? '');
    if (v2 !== 'v2' || entry === undefined) {
      res.writeHead(name === '' ? 200 : 404, { 'content-type': 'application/json' });
      res.end('{}');
      return;
    }
    const image = images[entry.answer.kind][entry.answer.format];
    if (kind === 'blobs') {
      const bytes = image.blobs.get(decodeURIComponent(reference ?? ''));
      res.writeHead(bytes === undefined ? 404 : 200, { 'content-type': 'application/octet-stream' });
      res.end(req.method === 'HEAD' ? undefined : bytes);
      return;
    }
    const headers: Record<string, string> = { 'content-length': String(entry.bytes.length) };
    if (entry.answer.contentType !== undefined) headers['content-type'] = entry.answer.contentType;
    if (entry.answer.digestHeader === 'right') headers['docker-content-digest'] = sha256Digest(entry.bytes);
    if (entry.answer.digestHeader === 'wrong') headers['docker-content-digest'] = image.manifestDigest;
    res.writeHead(200, headers);
    res.end(req.method === 'HEAD' ? undefined : entry.bytes);
  });
  pullgate = await startPullgate({
    env: {
      PULLGATE_UPSTREAM: upstream.url,
      PULLGATE_UPSTREAMS: `${UPSTREAM}=${upstream.url}`,
      PULLGATE_TAG_TTL: '0',
    },
  });
});
afterAll(async () => {
  await pullgate?.stop();
  await upstream?.stop();
});

describe('a generated hostile upstream serving a refused image', () => {
  it('never gets it served with 200, whatever it does to the manifest and its headers', async () => {
    let n = 0;
    const started = performance.now();
    try {
      await fc.assert(
        fc.asyncProperty(upstreamAnswer, async (answer) => {
          n++;
          const name = `case${n}`;
          const bytes = manifestBytes(answer);
          cases.set(name, { answer, bytes });
          for (const reference of ['latest', sha256Digest(bytes)]) {
            const res = await fetch(`${pullgate.url}/v2/${UPSTREAM}/${name}/app/manifests/${reference}`);
            const body = Buffer.from(await res.arrayBuffer());
            const what = `${reference}: ${res.status} ${body.toString('utf8').slice(0, 200)} for ${bytes.toString('utf8').slice(0, 400)}`;
            expect(res.status, what).not.toBe(200);
            expect(body.includes(Buffer.from(PLANTED_AWS_SECRET)), what).toBe(false);
            if (body.length > 0) expect(ociErrorProblem(body), what).toBeUndefined();
          }
        }),
        { seed, numRuns },
      );
    } finally {
      console.log(
        `hostile-upstream fuzz: seed ${seed}, ${n} cases run (numRuns ${numRuns}), ${Math.round(performance.now() - started)} ms`,
      );
    }
  }, 600_000);
});
