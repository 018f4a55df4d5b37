import { readdir, readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CraftedImage, type CraftOptions, craftImage } from '../../helpers/crafted-image.js';
import { type FaultServer, startFaultServer } from '../../helpers/fault-server.js';
import { PLANTED_AWS_SECRET, sha256Digest } from '../../helpers/images.js';
import { ociErrorCode, ociErrorProblem } from '../../helpers/oci-error-body.js';
import { type Pullgate, startPullgate } from '../../helpers/pullgate.js';

// A hostile upstream matrix. A real registry will not misbehave on demand, so one in-process server on a real
// loopback socket answers each scenario under its own repository (`/v2/<scenario>/app/...`): wrong or missing
// Content-Type on root and secret images, HTML and other non-manifests, manifests that lie about their digest,
// truncated, over-long, slow and reset bodies, redirect loops on blobs, a config blob that is not JSON.
// Property for every scenario: never an unjudged 200 — a root or secret image is refused whatever the headers
// say, a non-manifest is 502 UNAVAILABLE naming the upstream, a broken transfer is 502/504 naming it — every
// error is an OCI error body, the planted secret is in no answer, and nothing of it is left in the cache.
const UPSTREAM = 'hostile.test';
const OCI = 'application/vnd.oci.image.manifest.v1+json';

type Expect =
  /** 403 DENIED: judged and refused. */
  | 'refused'
  /** 502 UNAVAILABLE naming the upstream: pullgate does not understand it as a manifest. */
  | 'not-a-manifest'
  /** 502 or 504 UNAVAILABLE naming the upstream: the transfer itself was broken. */
  | 'upstream-fault'
  /** Any OCI error, never 200: the image cannot be judged (its config is unusable). */
  | 'not-served';

type Answer = (req: IncomingMessage, res: ServerResponse, image: CraftedImage) => void | Promise<void>;

/** What one repository on the hostile upstream serves. */
interface Behaviour {
  image: CraftedImage;
  manifest: Answer;
  /** How blobs are answered; default: the image's blobs with the right headers. */
  blob?: Answer;
}

interface Scenario extends Behaviour {
  name: string;
  expect: Expect;
  /** The digest a by-digest pull asks for; default the image's manifest digest. */
  askDigest?: string;
}

const nonroot = craftImage('nonroot', { label: 'control' });
/** A fresh image per scenario (its own digests), so no scenario meets another's cached blobs. */
const image = (kind: 'root' | 'secret', name: string, options: CraftOptions = {}) =>
  craftImage(kind, { ...options, label: name });
const loginPage = Buffer.from(
  '<!doctype html><html><head><title>Sign in</title></head><body><form>user</form></body></html>',
);

function head(req: IncomingMessage): boolean {
  return req.method === 'HEAD';
}

/** A manifest answer with this Content-Type (undefined: none at all) and these bytes (default: the manifest). */
function manifestAs(contentType: string | undefined, body?: (image: CraftedImage) => Buffer): Answer {
  return (req, res, image) => {
    const bytes = body?.(image) ?? image.manifest;
    const headers: Record<string, string> = {
      'content-length': String(bytes.length),
      'docker-content-digest': sha256Digest(bytes),
    };
    if (contentType !== undefined) headers['content-type'] = contentType;
    // Without one in `headers`, node:http sends no Content-Type at all.
    res.writeHead(200, headers);
    res.end(head(req) ? undefined : bytes);
  };
}

/** Raw bytes on the socket: for answers node:http refuses to produce (lengths that lie, resets). */
function raw(req: IncomingMessage, headLines: string[], body: Buffer, after: 'end' | 'destroy'): void {
  const socket = req.socket;
  socket.write(`HTTP/1.1 200 OK\r\n${headLines.map((l) => `${l}\r\n`).join('')}connection: close\r\n\r\n`);
  if (!head(req)) socket.write(body);
  if (after === 'end') socket.end();
  else socket.destroy();
}

function rightHeaders(image: CraftedImage, length = image.manifest.length): string[] {
  return [
    `content-type: ${OCI}`,
    `content-length: ${length}`,
    `docker-content-digest: ${image.manifestDigest}`,
  ];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A scenario over a root image of its own (or `kind`), named `name`. */
function over(
  name: string,
  expected: Expect,
  manifest: Answer,
  more: { kind?: 'root' | 'secret'; craft?: CraftOptions; blob?: Answer; askDigest?: string } = {},
): Scenario {
  return {
    name,
    expect: expected,
    image: image(more.kind ?? 'root', name, more.craft),
    manifest,
    ...(more.blob !== undefined ? { blob: more.blob } : {}),
    ...(more.askDigest !== undefined ? { askDigest: more.askDigest } : {}),
  };
}

const contentTypes = [
  ['octet', 'application/octet-stream'],
  ['html', 'text/html'],
  ['none', undefined],
  ['plain', 'text/plain; charset=utf-8'],
  ['json', 'application/json'],
  ['index', 'application/vnd.oci.image.index.v1+json'],
] as const;

const scenarios: Scenario[] = [
  // ---- wrong and missing Content-Type on images that must be refused, with and without a mediaType field ----
  ...contentTypes.flatMap(([label, type]) =>
    (['root', 'secret'] as const).flatMap((kind) => [
      over(`${kind}-${label}`, 'refused', manifestAs(type), { kind }),
      over(`${kind}-bare-${label}`, 'refused', manifestAs(type), { kind, craft: { omitMediaType: true } }),
    ]),
  ),
  over('root-docker-octet', 'refused', manifestAs('application/octet-stream'), { craft: { docker: true } }),
  // ---- things that are not manifests ----
  over(
    'login-page',
    'not-a-manifest',
    manifestAs('text/html', () => loginPage),
  ),
  over(
    'login-page-oci-type',
    'not-a-manifest',
    manifestAs(OCI, () => loginPage),
  ),
  over(
    'json-not-manifest',
    'not-a-manifest',
    manifestAs('application/octet-stream', () => Buffer.from('{"hello":"world"}')),
  ),
  over(
    'config-as-manifest',
    'not-a-manifest',
    manifestAs(OCI, (i) => i.config),
  ),
  over(
    'empty-body',
    'not-a-manifest',
    manifestAs(OCI, () => Buffer.alloc(0)),
  ),
  over(
    'binary-body',
    'not-a-manifest',
    manifestAs('application/octet-stream', () => Buffer.from([0, 159, 146, 150, 255, 1, 2])),
  ),
  // ---- a manifest that lies about its digest: HEAD and GET claim the allowed image's, and send the root's ----
  over(
    'digest-lie',
    'upstream-fault',
    (req, res, i) => {
      res.writeHead(200, {
        'content-type': OCI,
        'content-length': String(i.manifest.length),
        'docker-content-digest': nonroot.manifestDigest,
      });
      res.end(head(req) ? undefined : i.manifest);
    },
    { askDigest: nonroot.manifestDigest },
  ),
  // ---- bodies that do not match their Content-Length ----
  over('truncated', 'upstream-fault', (req, _res, i) =>
    raw(req, rightHeaders(i), i.manifest.subarray(0, i.manifest.length >> 1), 'end'),
  ),
  // Content-Length cuts the JSON short: the bytes read are not the manifest.
  over('length-short', 'upstream-fault', (req, _res, i) =>
    raw(req, rightHeaders(i, i.manifest.length - 10), i.manifest, 'end'),
  ),
  // The whole manifest and then junk past its Content-Length: the manifest is still judged.
  over('over-long', 'refused', (req, _res, i) =>
    raw(req, rightHeaders(i), Buffer.concat([i.manifest, Buffer.from('<html>junk</html>')]), 'end'),
  ),
  // ---- slow and reset bodies ----
  // Part of the body, then nothing for longer than pullgate's body timeout (tweaked to 1 s below).
  over('stalled', 'upstream-fault', async (req, _res, i) => {
    req.socket.write(`HTTP/1.1 200 OK\r\n${rightHeaders(i).join('\r\n')}\r\n\r\n`);
    if (head(req)) return;
    req.socket.write(i.manifest.subarray(0, 40));
    await sleep(3000);
    req.socket.destroy();
  }),
  // Slow but steady, inside the timeout: the bytes arrive and are judged.
  over('slow-steady', 'refused', async (req, _res, i) => {
    req.socket.write(`HTTP/1.1 200 OK\r\n${rightHeaders(i).join('\r\n')}\r\nconnection: close\r\n\r\n`);
    if (!head(req)) {
      for (let at = 0; at < i.manifest.length; at += 128) {
        req.socket.write(i.manifest.subarray(at, at + 128));
        await sleep(100);
      }
    }
    req.socket.end();
  }),
  over('reset-mid-body', 'upstream-fault', (req, _res, i) =>
    raw(req, rightHeaders(i), i.manifest.subarray(0, i.manifest.length >> 1), 'destroy'),
  ),
  // ---- the config blob misbehaves: the image cannot be judged ----
  over('config-reset', 'not-served', manifestAs(OCI), {
    blob: (req, _res, i) =>
      raw(
        req,
        ['content-type: application/octet-stream', `content-length: ${i.config.length}`],
        i.config.subarray(0, 20),
        'destroy',
      ),
  }),
  over('config-redirect-loop', 'not-served', manifestAs(OCI), {
    blob: (req, res) => {
      res.writeHead(307, { location: req.url ?? '/' });
      res.end();
    },
  }),
  over('config-wrong-bytes', 'not-served', manifestAs(OCI), {
    blob: (req, res) => {
      res.writeHead(200, {
        'content-type': 'application/octet-stream',
        'content-length': String(nonroot.config.length),
      });
      res.end(head(req) ? undefined : nonroot.config);
    },
  }),
  over('config-not-json', 'not-served', manifestAs(OCI), {
    craft: { configBytes: Buffer.from('<html><body>Sign in</body></html>') },
  }),
];

const byName = new Map<string, Behaviour>(scenarios.map((s) => [s.name, s]));
byName.set('control', { image: nonroot, manifest: manifestAs(OCI) });
byName.set('layer-redirect-loop', {
  image: nonroot,
  manifest: manifestAs(OCI),
  blob: (req, res) => {
    res.writeHead(302, { location: `${req.url ?? '/'}?again=1` });
    res.end();
  },
});

function defaultBlob(req: IncomingMessage, res: ServerResponse, image: CraftedImage): void {
  const digest = decodeURIComponent((req.url ?? '').split('?')[0]?.split('/').pop() ?? '');
  const bytes = image.blobs.get(digest);
  if (bytes === undefined) {
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end('{"errors":[{"code":"BLOB_UNKNOWN","message":"blob unknown"}]}');
    return;
  }
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(bytes.length) });
  res.end(head(req) ? undefined : bytes);
}

let upstream: FaultServer;
let pullgate: Pullgate;

beforeAll(async () => {
  upstream = await startFaultServer(async (req, res) => {
    const [, v2, scenarioName, , kind] = (req.url ?? '').split('?')[0]?.split('/') ?? [];
    const scenario = byName.get(scenarioName ?? '');
    if (v2 !== 'v2' || scenario === undefined) {
      res.writeHead(v2 === 'v2' && scenarioName === '' ? 200 : 404, { 'content-type': 'application/json' });
      res.end('{}');
      return;
    }
    if (kind === 'manifests') await scenario.manifest(req, res, scenario.image);
    else if (kind === 'blobs') await (scenario.blob ?? defaultBlob)(req, res, scenario.image);
    else {
      res.writeHead(404);
      res.end();
    }
  });
  pullgate = await startPullgate({
    env: {
      PULLGATE_UPSTREAM: upstream.url,
      PULLGATE_UPSTREAMS: `${UPSTREAM}=${upstream.url}`,
      PULLGATE_TAG_TTL: '0',
    },
    // A stalled body is given up after 1 s instead of 60 s; the slow-but-steady one sends every 100 ms.
    tweak: (config) => {
      config.upstreamTimeouts = { connectMs: 2000, headersMs: 2000, bodyMs: 1000 };
    },
  });
});
afterAll(async () => {
  await pullgate?.stop();
  await upstream?.stop();
});

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await filesUnder(path)));
    else if (entry.isFile()) out.push(path);
  }
  return out;
}

interface Answered {
  status: number;
  body: Buffer;
  what: string;
}

async function get(path: string): Promise<Answered> {
  const res = await fetch(`${pullgate.url}${path}`, {
    headers: { accept: `${OCI}, application/vnd.docker.distribution.manifest.v2+json` },
  });
  // A 200 whose body is then cut (a blob that fails mid-stream) still counts as a 200 served.
  let cut = '';
  const body = await res
    .arrayBuffer()
    .then((b) => Buffer.from(b))
    .catch((err: Error) => {
      cut = ` (body cut: ${err.message})`;
      return Buffer.alloc(0);
    });
  return {
    status: res.status,
    body,
    what: `GET ${path} -> ${res.status}${cut} ${body.toString('utf8').slice(0, 300)}`,
  };
}

function expectAnswer(answer: Answered, expected: Expect): void {
  expect(answer.status, answer.what).not.toBe(200);
  expect(answer.body.includes(Buffer.from(PLANTED_AWS_SECRET)), answer.what).toBe(false);
  expect(ociErrorProblem(answer.body), answer.what).toBeUndefined();
  const code = ociErrorCode(answer.body);
  switch (expected) {
    case 'refused':
      expect([answer.status, code], answer.what).toEqual([403, 'DENIED']);
      break;
    case 'not-a-manifest':
      expect([answer.status, code], answer.what).toEqual([502, 'UNAVAILABLE']);
      expect(answer.body.toString('utf8'), answer.what).toContain(UPSTREAM);
      break;
    case 'upstream-fault':
      expect([502, 504], answer.what).toContain(answer.status);
      expect(code, answer.what).toBe('UNAVAILABLE');
      expect(answer.body.toString('utf8'), answer.what).toContain(UPSTREAM);
      break;
    case 'not-served':
      expect(answer.status, answer.what).toBeGreaterThanOrEqual(400);
      break;
  }
}

/** Nothing of the scenario's image config, of the planted secret or of a non-manifest body is on disk. */
async function expectNothingCached(scenario: Behaviour, extra: Buffer[] = []): Promise<void> {
  const cache = join(pullgate.dataDir, 'cache');
  const files = await filesUnder(cache);
  const configFile = scenario.image.configDigest.replace(':', '/');
  expect(files.filter((f) => f.endsWith(configFile))).toEqual([]);
  expect(await readdir(join(cache, 'tmp'))).toEqual([]);
  const forbidden = [scenario.image.config, Buffer.from(PLANTED_AWS_SECRET), ...extra];
  for (const file of files) {
    const bytes = await readFile(file);
    for (const f of forbidden)
      expect(bytes.includes(f), `${file} holds refused or failed content`).toBe(false);
  }
}

describe('a hostile upstream', () => {
  it('serves the allowed control image, so the refusals below are the scenarios, not the setup', async () => {
    const tag = await get(`/v2/${UPSTREAM}/control/app/manifests/latest`);
    expect(tag.status, tag.what).toBe(200);
    expect(tag.body.equals(nonroot.manifest)).toBe(true);
    const config = await get(`/v2/${UPSTREAM}/control/app/blobs/${nonroot.configDigest}`);
    expect(config.status, config.what).toBe(200);
  });

  it.each(scenarios)('$name: never an unjudged 200, nothing cached ($expect)', async (scenario) => {
    const base = `/v2/${UPSTREAM}/${scenario.name}/app`;
    expectAnswer(await get(`${base}/manifests/latest`), scenario.expect);
    expectAnswer(
      await get(`${base}/manifests/${scenario.askDigest ?? scenario.image.manifestDigest}`),
      scenario.expect,
    );
    // A refused image's config blob is not served either (a config that is not JSON cannot be told from a layer).
    if (scenario.name !== 'config-not-json') {
      const config = await get(`${base}/blobs/${scenario.image.configDigest}`);
      expect(config.status, config.what).not.toBe(200);
      expect(config.body.includes(Buffer.from(PLANTED_AWS_SECRET)), config.what).toBe(false);
    }
    // Let any fill or background write that would have happened finish before looking at the disk.
    await sleep(200);
    await expectNothingCached(scenario, scenario.name.startsWith('login-page') ? [loginPage] : []);
  });

  it('answers a redirect loop on a layer blob with 502 naming the upstream, and caches nothing', async () => {
    const answer = await get(`/v2/${UPSTREAM}/layer-redirect-loop/app/blobs/${nonroot.layerDigest}`);
    expectAnswer(answer, 'upstream-fault');
    await sleep(200);
    const files = await filesUnder(join(pullgate.dataDir, 'cache', 'blobs'));
    expect(files.filter((f) => f.endsWith(nonroot.layerDigest.replace(':', '/')))).toEqual([]);
    expect(await readdir(join(pullgate.dataDir, 'cache', 'tmp'))).toEqual([]);
  });
});
