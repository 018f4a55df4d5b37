import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  fetchManifest,
  PLANTED_AWS_SECRET,
  PLANTED_NPM_TOKEN,
  type SeededImages,
  type SeedTag,
  seedRegistry,
} from '../../helpers/images.js';
import { ociErrorProblem } from '../../helpers/oci-error-body.js';
import { run } from '../../helpers/proc.js';
import { type Pullgate, startPullgate } from '../../helpers/pullgate.js';
import { type RawResponse, rawRequest } from '../../helpers/raw-http.js';
import { type Registry, registryFetch, startRegistry } from '../../helpers/registry.js';
import { makeTempDir, type TempDir } from '../../helpers/tmp.js';

// Property-based fuzzing of pullgate's whole HTTP surface over a real socket, in front of the real registry
// seeded with the test images. Every case is one raw HTTP/1.1 request (method, target, headers, body exactly as
// generated: no client normalises `..` or escapes NUL for us). Properties, for every answer:
//   - there is an answer (no crash, no silently dropped connection) and no unhandled rejection in the process;
//   - never a 5xx unless the upstream was at fault (the registry's access log shows it answering 5xx);
//   - every 4xx/5xx with a body is an OCI error body;
//   - never a refused image's bytes: no planted secret in any body or header, no refused manifest served by GET,
//     no part of a refused image's config blob.
// Seeded and bounded: PULLGATE_FUZZ_SEED (default below) and PULLGATE_FUZZ_RUNS (default 1000, ~15-30 s here);
// a longer run is `PULLGATE_FUZZ_RUNS=5000 npx vitest run test/integration/adversarial/http-surface`.
// With `auth`, pullgate requires that user (htpasswd, anonymous pulls off) and one more property holds: no /v2/
// answer is a 2xx unless the request carried that user's credentials.
const seed = Number(process.env.PULLGATE_FUZZ_SEED ?? 20261201);
const numRuns = Number(process.env.PULLGATE_FUZZ_RUNS ?? 1000);
/** PULLGATE_FUZZ_SURVEY=1: run every case and list each kind of violation once, instead of shrinking the first. */
const survey = process.env.PULLGATE_FUZZ_SURVEY === '1';
const adminToken = 'fuzz-admin-token';

export interface SurfaceOptions {
  /** Names the run in the test title and the printed summary. */
  label: string;
  /** Require this user (htpasswd, anonymous pulls off); its Basic header joins the generated Authorization values. */
  auth?: { user: string; password: string };
}

export function fuzzHttpSurface(options: SurfaceOptions): void {
  const validBasic =
    options.auth === undefined
      ? undefined
      : `Basic ${Buffer.from(`${options.auth.user}:${options.auth.password}`).toString('base64')}`;
  let authDir: TempDir | undefined;
  let upstream: Registry;
  let seeded: SeededImages;
  let pullgate: Pullgate;
  const refusedTags = ['root', 'secretenv', 'argleak'] as const;
  /** Digests and bytes of the refused images' manifests and config blobs. */
  const refusedManifests = new Map<string, Buffer>();
  const refusedConfigs = new Map<string, Buffer>();
  /** Digests a pull may ask for: manifests, configs and (small) layers of every seeded image but `big`. */
  const knownDigests: string[] = [];
  const planted = [PLANTED_AWS_SECRET, PLANTED_NPM_TOKEN].map((s) => Buffer.from(s));
  const unhandled: unknown[] = [];
  const onUnhandled = (err: unknown) => unhandled.push(err);

  async function blobBytes(digest: string): Promise<Buffer> {
    const res = await registryFetch(upstream, `/v2/${seeded.repo}/blobs/${digest}`);
    const bytes = Buffer.from(await res.arrayBuffer());
    if (res.status !== 200) throw new Error(`registry answered ${res.status} for blob ${digest}`);
    return bytes;
  }

  beforeAll(async () => {
    process.on('unhandledRejection', onUnhandled);
    process.on('uncaughtException', onUnhandled);
    upstream = await startRegistry();
    seeded = await seedRegistry(upstream);
    for (const tag of Object.keys(seeded.digests) as SeedTag[]) {
      if (tag === 'big') continue;
      const manifest = await fetchManifest(upstream, seeded.repo, seeded.digests[tag]);
      knownDigests.push(manifest.digest);
      const parsed = JSON.parse(manifest.body.toString('utf8')) as {
        config?: { digest: string };
        layers?: { digest: string }[];
        manifests?: { digest: string }[];
      };
      for (const d of [parsed.config, ...(parsed.layers ?? []), ...(parsed.manifests ?? [])])
        if (d !== undefined) knownDigests.push(d.digest);
      if ((refusedTags as readonly string[]).includes(tag) && parsed.config !== undefined) {
        refusedManifests.set(manifest.digest, manifest.body);
        refusedConfigs.set(parsed.config.digest, await blobBytes(parsed.config.digest));
      }
    }
    const env: Record<string, string> = { PULLGATE_UPSTREAM: upstream.url, PULLGATE_ADMIN_TOKEN: adminToken };
    if (options.auth !== undefined) {
      authDir = await makeTempDir('pullgate-fuzz-auth');
      const htpasswd = (await run('htpasswd', ['-Bbn', options.auth.user, options.auth.password])).stdout;
      await writeFile(join(authDir.path, 'htpasswd'), htpasswd);
      env.PULLGATE_HTPASSWD = join(authDir.path, 'htpasswd');
      env.PULLGATE_ALLOW_ANONYMOUS = 'false';
    }
    pullgate = await startPullgate({ env });
  });
  afterAll(async () => {
    await pullgate?.stop();
    await upstream?.stop();
    await authDir?.cleanup();
    process.off('unhandledRejection', onUnhandled);
    process.off('uncaughtException', onUnhandled);
  });

  // ---- the grammar (distribution-spec v1.1 endpoints) and the hostile pieces ----

  const rawHostilePiece = fc.oneof(
    fc.constantFrom(
      '..',
      '.',
      '%2e%2e',
      '%2E',
      '%ZZ',
      '%',
      '%2',
      '%00',
      '%2F',
      '%5C',
      '\\',
      '%C0%AF',
      '%E0%A4%A',
      '%FF',
      '%ED%A0%80',
      ';',
      ';a=b',
      '*',
      ':',
      '@',
      '%0d%0a',
      '%20',
      'é',
      '💩',
      '\u0000',
      '\u202e',
      '\ufeff',
      '',
      '../../etc/passwd',
      'sha256:',
      'sha256:zz',
      `sha512:${'a'.repeat(128)}`,
      `sha256:${'A'.repeat(64)}`,
      `md5:${'a'.repeat(32)}`,
    ),
    fc.string({ unit: 'grapheme', maxLength: 12 }),
    fc.string({ unit: 'binary', maxLength: 8 }),
    fc.constantFrom(256, 256, 1000, 1000, 5000, 5000, 17_000, 70_000).map((n) => 'a'.repeat(n)),
  );

  /** Every byte outside unreserved characters as %XX of its UTF-8: what a careful client would send. */
  function percentEncode(piece: string): string {
    return [...Buffer.from(piece, 'utf8')]
      .map((b) =>
        /[A-Za-z0-9._~-]/.test(String.fromCharCode(b))
          ? String.fromCharCode(b)
          : `%${b.toString(16).toUpperCase().padStart(2, '0')}`,
      )
      .join('');
  }

  // Mostly percent-encoded, so the pieces reach the router and the handlers; raw now and then, for the HTTP parser.
  const hostilePiece = fc.oneof(
    { weight: 1, arbitrary: rawHostilePiece },
    { weight: 3, arbitrary: rawHostilePiece.map(percentEncode) },
    {
      weight: 1,
      arbitrary: fc.constantFrom('..', '.', '%ZZ', '%', '%2', '%E0%A4%A', '%ED%A0%80', '%C0%AF', '%00'),
    },
  );

  const nameComponent = fc.stringMatching(/^[a-z0-9]{1,8}(?:[._-][a-z0-9]{1,6})?$/);
  const repositoryName = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom('library/app', 'app', 'docker.io/library/app') },
    { weight: 2, arbitrary: fc.array(nameComponent, { minLength: 1, maxLength: 4 }).map((c) => c.join('/')) },
    {
      weight: 1,
      arbitrary: fc.constantFrom('library/nope', 'LIBRARY/APP', 'library//app', 'ghcr.io/org/app'),
    },
  );

  const hex = (n: number) => fc.stringMatching(new RegExp(`^[a-f0-9]{${n}}$`));
  const digest = fc.oneof(
    { weight: 4, arbitrary: fc.constant(undefined).map(() => '') }, // replaced by a known digest below
    { weight: 1, arbitrary: hex(64).map((h) => `sha256:${h}`) },
    { weight: 1, arbitrary: hex(128).map((h) => `sha512:${h}`) },
  );
  const knownOrRandomDigest = fc
    .tuple(digest, fc.nat())
    .map(([d, i]) => (d === '' ? (knownDigests[i % knownDigests.length] ?? '') : d));

  const tag = fc.oneof(
    {
      weight: 4,
      arbitrary: fc.constantFrom(
        'root',
        'secretenv',
        'argleak',
        'nonroot',
        'v2s2',
        'oci-index',
        'docker-list',
        'big',
        'latest',
      ),
    },
    { weight: 1, arbitrary: fc.stringMatching(/^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,20}$/) },
  );
  const reference = fc.oneof(tag, knownOrRandomDigest);

  const endpoint = fc.oneof(
    { weight: 5, arbitrary: reference.map((r) => `manifests/${r}`) },
    { weight: 4, arbitrary: knownOrRandomDigest.map((d) => `blobs/${d}`) },
    { weight: 2, arbitrary: fc.constant('tags/list') },
    { weight: 1, arbitrary: knownOrRandomDigest.map((d) => `referrers/${d}`) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        'blobs/uploads/',
        'blobs/uploads/0b5c7d4e-1f2a-4b3c-9d8e-7f6a5b4c3d2e',
        'tags',
      ),
    },
  );

  const v2Path = fc.tuple(repositoryName, endpoint).map(([n, e]) => `/v2/${n}/${e}`);
  const otherPath = fc.constantFrom(
    '/',
    '/v2',
    '/v2/',
    '/v2/_catalog',
    '/v1/_ping',
    '/healthz',
    '/readyz',
    '/metrics',
    '/admin/decisions',
    '/admin/tags',
    '/admin/alerts',
    '/admin/alerts/1/approve',
    '/favicon.ico',
    '*',
    'http://127.0.0.1/v2/',
  );

  /** A well-formed path with one or two of its segments replaced by, or extended with, hostile pieces. */
  const mutatedPath = fc
    .tuple(
      v2Path,
      fc.array(fc.tuple(fc.nat(), hostilePiece, fc.constantFrom('replace', 'insert', 'append')), {
        minLength: 1,
        maxLength: 2,
      }),
    )
    .map(([path, edits]) => {
      const segments = path.split('/');
      for (const [at, piece, how] of edits) {
        const i = 1 + (at % (segments.length - 1));
        if (how === 'replace') segments[i] = piece;
        else if (how === 'insert') segments.splice(i, 0, piece);
        else segments[i] = `${segments[i] ?? ''}${piece}`;
      }
      return segments.join('/');
    });

  const path = fc.oneof(
    { weight: 5, arbitrary: v2Path },
    { weight: 4, arbitrary: mutatedPath },
    { weight: 1, arbitrary: otherPath },
  );

  const queryValue = fc.oneof(
    fc.constantFrom(
      'docker.io',
      'ghcr.io',
      '',
      '0',
      '-1',
      '1',
      '5',
      '10000',
      '99999999999999999999',
      'abc',
      'nonroot',
    ),
    hostilePiece,
  );
  const query = fc.option(
    fc
      .array(
        fc.tuple(
          fc.oneof(fc.constantFrom('ns', 'n', 'last', 'digest', 'mount', 'from'), hostilePiece),
          queryValue,
        ),
        { maxLength: 4 },
      )
      .map((pairs) => pairs.map(([k, v]) => `${k}=${v}`).join('&')),
    { nil: undefined },
  );

  const method = fc.oneof(
    { weight: 8, arbitrary: fc.constant('GET') },
    { weight: 3, arbitrary: fc.constant('HEAD') },
    { weight: 2, arbitrary: fc.constantFrom('PUT', 'POST', 'PATCH', 'DELETE') },
    { weight: 1, arbitrary: fc.constantFrom('OPTIONS', 'TRACE', 'PROPFIND', 'get', 'FOO', 'M-SEARCH') },
  );

  /** Header values never contain CR or LF: those would split the request, which is a different test. */
  const headerText = fc
    .string({ unit: 'grapheme-ascii', maxLength: 40 })
    .map((s) => s.replace(/[\r\n]/g, ''));
  const headers = fc.record(
    {
      accept: fc.oneof(
        fc.constantFrom(
          'application/vnd.oci.image.manifest.v1+json',
          'application/vnd.oci.image.index.v1+json',
          'application/vnd.docker.distribution.manifest.v2+json',
          'application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.oci.image.index.v1+json',
          'application/vnd.docker.distribution.manifest.v1+prettyjws',
          '*/*',
          'text/html',
          '',
          `application/${'x'.repeat(9000)}`,
        ),
        headerText,
      ),
      range: fc.oneof(
        fc.constantFrom(
          'bytes=0-10',
          'bytes=-5',
          'bytes=10-1',
          'bytes=0-',
          'bytes=0-0,5-9',
          'bytes=999999999-',
          'items=0-1',
        ),
        fc.tuple(fc.nat({ max: 4000 }), fc.nat({ max: 4000 })).map(([a, b]) => `bytes=${a}-${b}`),
        headerText,
      ),
      authorization: fc.oneof(
        fc.constantFrom(
          `Bearer ${adminToken}`,
          'Bearer nope',
          'Basic dXNlcjpwYXNz',
          'Basic !!!not-base64',
          'Basic ',
          'Digest username="x"',
          '',
        ),
        headerText,
        fc.constant(validBasic ?? 'Basic dXNlcjpwYXNz'),
        fc
          .string({ unit: 'grapheme-ascii', maxLength: 60 })
          .map((s) => `Basic ${Buffer.from(s).toString('base64')}`),
      ),
    },
    { requiredKeys: [] },
  );

  const body = fc.option(
    fc.record({
      type: fc.constantFrom(
        'application/json',
        'application/vnd.oci.image.manifest.v1+json',
        'application/octet-stream',
        'text/plain',
        'multipart/form-data; boundary=x',
      ),
      text: fc.oneof(
        fc.constantFrom('{', '{"a":', 'null', '[]', '{"schemaVersion":2}'),
        fc.string({ maxLength: 64 }),
      ),
    }),
    { nil: undefined },
  );

  const request = fc.record({ method, path, query, headers, body });
  type FuzzRequest = typeof request extends fc.Arbitrary<infer T> ? T : never;

  /** The case as text for a failure message, with any planted secret value blanked: never print one. */
  function describeCase(req: FuzzRequest, res: RawResponse | undefined): string {
    let text = describeCaseRaw(req, res);
    for (const secret of planted) text = text.replaceAll(secret.toString(), '<planted secret value>');
    return text;
  }

  function describeCaseRaw(req: FuzzRequest, res: RawResponse | undefined): string {
    const shown = (s: string) => (s.length > 160 ? `${s.slice(0, 160)}…(${s.length} chars)` : s);
    return JSON.stringify({
      request: {
        ...req,
        path: shown(req.path),
        query: req.query === undefined ? undefined : shown(req.query),
      },
      response:
        res === undefined
          ? 'connection closed without an answer'
          : { status: res.status, headers: res.headers, body: shown(res.body.toString('utf8')) },
    });
  }

  /** What the registry answered since entry `seen` of its access log, waiting briefly for its lines to land. */
  async function upstreamAnswersSince(
    seen: number,
  ): Promise<{ any5xx: boolean; answers: string[]; manifestUris: string[] }> {
    const deadline = Date.now() + 2000;
    for (;;) {
      const log = (await upstream.accessLog()).slice(seen);
      const answers = log.map((e) => `${e.method} ${e.path.slice(0, 80)} -> ${e.status}`);
      const manifestUris = log
        .filter((e) => e.status === 200 && e.path.includes('/manifests/'))
        .map((e) => e.uri);
      if (log.some((e) => e.status >= 500)) return { any5xx: true, answers, manifestUris };
      if (Date.now() > deadline) return { any5xx: false, answers, manifestUris };
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /**
   * Whether the registry answers one of these manifest requests with a Docker schema 1 manifest: distribution
   * converts a v2 image to signed schema 1 for an Accept that names no v2 or list type (an OCI-only client asking
   * for a Docker image). pullgate does not serve schema 1, so its 502 naming the upstream is the upstream's doing.
   * Only an Accept pullgate forwards as is (one naming vnd.oci or vnd.docker types) reaches the registry unchanged.
   */
  async function upstreamAnsweredSchema1(uris: string[], accept: string | undefined): Promise<boolean> {
    if (accept === undefined || !/application\/vnd\.(?:oci|docker)\./.test(accept)) return false;
    for (const uri of uris) {
      const res = await registryFetch(upstream, uri, { method: 'HEAD', headers: { accept } });
      await res.arrayBuffer();
      if (/manifest\.v1\+(?:prettyjws|json)/.test(res.headers.get('content-type') ?? '')) return true;
    }
    return false;
  }

  class Violation extends Error {
    constructor(
      readonly what: string,
      req: FuzzRequest,
      res: RawResponse | undefined,
    ) {
      super(`${what}\n${describeCase(req, res)}`);
    }
  }

  function violation(req: FuzzRequest, res: RawResponse | undefined, what: string): Violation {
    return new Violation(what, req, res);
  }

  async function check(req: FuzzRequest): Promise<void> {
    const logBefore = (await upstream.accessLog()).length;
    const target = req.query === undefined ? req.path : `${req.path}?${req.query}`;
    const headerList = Object.entries(req.headers).filter((e): e is [string, string] => e[1] !== undefined);
    if (req.body !== undefined) headerList.push(['content-type', req.body.type]);
    const res = await rawRequest(pullgate.port, {
      method: req.method,
      target,
      headers: headerList,
      ...(req.body !== undefined ? { body: Buffer.from(req.body.text) } : {}),
    });
    if (res === undefined) throw violation(req, res, 'no answer');
    const everything = Buffer.concat([Buffer.from(JSON.stringify(res.headers)), res.body]);
    for (const secret of planted) {
      if (everything.includes(secret)) throw violation(req, res, 'a planted secret value was answered');
    }
    if (res.status >= 200 && res.status < 300 && res.body.length > 0) {
      for (const [d, bytes] of refusedManifests) {
        if (res.body.equals(bytes)) throw violation(req, res, `refused manifest ${d} served`);
      }
      for (const [d, bytes] of refusedConfigs) {
        if (res.body.length >= 16 && bytes.includes(res.body))
          throw violation(req, res, `bytes of refused config blob ${d} served`);
      }
    }
    if (
      validBasic !== undefined &&
      res.status >= 200 &&
      res.status < 300 &&
      res.headers['docker-distribution-api-version'] !== undefined &&
      req.headers.authorization !== validBasic
    ) {
      throw violation(req, res, 'a /v2/ answer was served without the required credentials');
    }
    if (res.status >= 500) {
      const { any5xx, answers, manifestUris } = await upstreamAnswersSince(logBefore);
      const endpoint = req.path.split('/').at(-2) ?? '';
      const schema1 =
        res.status === 502 && (await upstreamAnsweredSchema1(manifestUris, req.headers.accept?.toString()));
      if (!any5xx && !schema1) {
        throw violation(
          req,
          res,
          `${res.status} to ${req.method} .../${endpoint}/… while the upstream answered [${answers.join(', ')}]`,
        );
      }
    }
    if (res.status >= 400 && res.body.length > 0) {
      const problem = ociErrorProblem(res.body);
      if (problem !== undefined) throw violation(req, res, `error body is not an OCI error: ${problem}`);
    }
  }

  describe(`the HTTP surface under random and hostile requests (${options.label})`, () => {
    it('answers every request without a 5xx of its own, with OCI error bodies, never a refused byte', async () => {
      expect(refusedConfigs.size).toBe(3);
      const started = performance.now();
      let cases = 0;
      const found = new Map<string, { count: number; example: string }>();
      try {
        await fc.assert(
          fc.asyncProperty(request, async (req) => {
            cases++;
            if (!survey) return check(req);
            try {
              await check(req);
            } catch (err) {
              if (!(err instanceof Violation)) throw err;
              const kind = err.what
                .replace(/[0-9a-f]{64}/g, '<hex>')
                .replace(/'[^']*'/g, "'…'")
                .slice(0, 110);
              const seen = found.get(kind);
              if (seen === undefined) found.set(kind, { count: 1, example: err.message });
              else seen.count++;
            }
          }),
          { seed, numRuns },
        );
      } finally {
        // Printed for the record (and the closing note): how to replay this run.
        console.log(
          `http-surface fuzz (${options.label}): seed ${seed}, ${cases} cases run (numRuns ${numRuns}), ${Math.round(performance.now() - started)} ms`,
        );
      }
      const summary = [...found].map(([kind, { count, example }]) => `${count}x ${kind}\n  e.g. ${example}`);
      expect(found.size, `violations:\n${summary.join('\n\n')}`).toBe(0);
      // Still serving after all of it, and nothing escaped as an unhandled rejection.
      const ping = await fetch(`${pullgate.url}/v2/`, {
        headers: validBasic === undefined ? {} : { authorization: validBasic },
      });
      expect(ping.status).toBe(200);
      expect(unhandled).toEqual([]);
    }, 600_000);
  });
}
