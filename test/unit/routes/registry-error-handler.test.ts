import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { CacheFullError } from '../../../src/cache/blob-store.js';
import { requireDigest } from '../../../src/oci/digest.js';
import { RegistryError } from '../../../src/oci/errors.js';
import {
  BlobRefusedError,
  PullUnavailableError,
  RangeNotSatisfiableError,
} from '../../../src/pull/errors.js';
import { sendRegistryError, toRegistryError } from '../../../src/routes/registry-error-handler.js';
import { mapTransportError, mapUpstreamStatus, UpstreamError } from '../../../src/upstream/errors.js';

// The edge where errors become OCI error bodies: what a client sees for each kind of error.
let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
});

async function answerFor(err: unknown, method: 'GET' | 'HEAD' = 'GET') {
  app = Fastify({ logger: false });
  app.setErrorHandler((e, request, reply) => sendRegistryError(e, request, reply));
  app.route({
    method,
    url: '/x',
    handler: async () => {
      throw err;
    },
  });
  return app.inject({ method, url: '/x' });
}

describe('sendRegistryError', () => {
  it('answers a RegistryError with its code, status, detail and headers', async () => {
    const res = await answerFor(
      new RegistryError('TOOMANYREQUESTS', 'slow down', {
        detail: { upstream: 'u' },
        headers: { 'retry-after': '7' },
      }),
    );
    expect(res.statusCode).toBe(429);
    expect(res.headers['retry-after']).toBe('7');
    expect(res.json()).toEqual({
      errors: [{ code: 'TOOMANYREQUESTS', message: 'slow down', detail: { upstream: 'u' } }],
    });
  });

  it('answers a pull a part it needs cannot serve as 503 UNAVAILABLE naming the part', async () => {
    const res = await answerFor(
      new PullUnavailableError('tag-history', 'the tag history store is unavailable (sqlite x)', {
        store: 'sqlite x',
      }),
    );
    expect(res.statusCode).toBe(503);
    expect(res.json()).toEqual({
      errors: [
        {
          code: 'UNAVAILABLE',
          message: 'the tag history store is unavailable (sqlite x)',
          detail: { store: 'sqlite x' },
        },
      ],
    });
  });

  it('answers any other error as UNKNOWN without its message', async () => {
    const res = await answerFor(new Error('secret path /etc/pullgate/key'));
    expect(res.statusCode).toBe(500);
    expect(res.json()).toEqual({ errors: [{ code: 'UNKNOWN', message: 'internal error' }] });
    expect(res.body).not.toContain('/etc/pullgate');
  });

  it("answers a framework's 4xx as the client's mistake", async () => {
    const res = await answerFor(Object.assign(new Error('body too large'), { statusCode: 413 }));
    expect(res.statusCode).toBe(413);
    expect(res.json().errors[0].code).toBe('UNSUPPORTED');
  });

  it('answers a HEAD with the status and no body', async () => {
    const res = await answerFor(new RegistryError('MANIFEST_UNKNOWN', 'no such manifest'), 'HEAD');
    expect(res.statusCode).toBe(404);
    expect(res.body).toBe('');
  });
});

describe('toRegistryError: what a client sees for each upstream failure', () => {
  it.each([
    [404, 'blob', 'BLOB_UNKNOWN', 404],
    [404, 'manifest', 'MANIFEST_UNKNOWN', 404],
    [404, 'tags', 'NAME_UNKNOWN', 404],
    [401, 'manifest', 'UNAUTHORIZED', 401],
    [403, 'blob', 'DENIED', 403],
    [405, 'tags', 'UNSUPPORTED', 405],
    [400, 'manifest', 'MANIFEST_INVALID', 400],
    [400, 'blob', 'UNAVAILABLE', 502],
    [500, 'manifest', 'UNAVAILABLE', 502],
    [504, 'blob', 'UNAVAILABLE', 504],
  ] as const)('upstream %i for a %s is %s %i', (upstreamStatus, subject, code, status) => {
    const error = toRegistryError(mapUpstreamStatus(upstreamStatus, subject, 'hub.test', undefined));
    expect(error).toMatchObject({ code, status, detail: { upstream: 'hub.test', status: upstreamStatus } });
  });

  it("passes a rate limit's Retry-After on, defaulting to 60 when the upstream's is not seconds", () => {
    expect(toRegistryError(mapUpstreamStatus(429, 'manifest', 'hub.test', '17'))).toMatchObject({
      code: 'TOOMANYREQUESTS',
      status: 429,
      headers: { 'retry-after': '17' },
    });
    expect(toRegistryError(mapUpstreamStatus(429, 'manifest', 'hub.test', 'soon'))?.headers).toEqual({
      'retry-after': '60',
    });
  });

  it('answers a transport timeout as 504 and a refused connection as 502', () => {
    const timeout = Object.assign(new Error('t'), { code: 'UND_ERR_HEADERS_TIMEOUT' });
    const refused = Object.assign(new Error('r'), { code: 'ECONNREFUSED' });
    expect(toRegistryError(mapTransportError(timeout, 'hub.test'))).toMatchObject({
      code: 'UNAVAILABLE',
      status: 504,
    });
    expect(toRegistryError(mapTransportError(refused, 'hub.test'))).toMatchObject({
      code: 'UNAVAILABLE',
      status: 502,
      detail: { upstream: 'hub.test', cause: 'ECONNREFUSED' },
    });
  });

  it('answers a registry no upstream is configured for as NAME_UNKNOWN', () => {
    const err = new UpstreamError('unknown-registry', 'no upstream is configured for registry q.test', {
      detail: { ns: 'q.test' },
    });
    expect(toRegistryError(err)).toMatchObject({
      code: 'NAME_UNKNOWN',
      status: 404,
      detail: { ns: 'q.test' },
    });
  });

  it('counts down, slow, limiting and broken upstreams as outages, and "no" answers not', () => {
    const outages = ['unreachable', 'timeout', 'rate-limited', 'bad-answer'];
    for (const failure of [
      'unreachable',
      'timeout',
      'not-found',
      'unauthorized',
      'denied',
      'rate-limited',
      'unsupported',
      'rejected',
      'bad-answer',
      'unknown-registry',
    ] as const) {
      expect(new UpstreamError(failure, 'x').outage).toBe(outages.includes(failure));
    }
  });
});

describe('toRegistryError: pull and cache errors', () => {
  it('answers an unsatisfiable range as 416 with the blob size in Content-Range', async () => {
    const res = await answerFor(new RangeNotSatisfiableError(1234));
    expect(res.statusCode).toBe(416);
    expect(res.headers['content-range']).toBe('bytes */1234');
    expect(res.json().errors[0].code).toBe('SIZE_INVALID');
  });

  it('answers a refused config blob as DENIED with its digest and findings, never the values', async () => {
    const digest = requireDigest(`sha256:${'a'.repeat(64)}`);
    const res = await answerFor(
      new BlobRefusedError(
        digest,
        {
          kind: 'refuse',
          message: 'image config carries a secret',
          findings: [
            { rule: 'secret-env', key: 'AWS_SECRET_ACCESS_KEY', message: 'a secret in ENV' },
            { rule: 'root-user', message: 'runs as root' },
          ],
          policyVersion: 'v1',
          policyNames: ['base'],
        },
        'upstream',
      ),
    );
    expect(res.statusCode).toBe(403);
    expect(res.json()).toEqual({
      errors: [
        {
          code: 'DENIED',
          message: 'image config carries a secret',
          detail: {
            digest: digest.value,
            findings: [{ rule: 'secret-env', key: 'AWS_SECRET_ACCESS_KEY' }, { rule: 'root-user' }],
          },
        },
      ],
    });
  });

  it('answers a full cache disk as 503 with the free and needed bytes', async () => {
    const res = await answerFor(new CacheFullError(100, 5000));
    expect(res.statusCode).toBe(503);
    expect(res.json().errors[0]).toMatchObject({
      code: 'UNAVAILABLE',
      detail: { cache: 'disk full', freeBytes: 100, blobBytes: 5000 },
    });
  });
});
