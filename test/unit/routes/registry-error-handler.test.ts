import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { RegistryError } from '../../../src/oci/errors.js';
import { PullUnavailableError } from '../../../src/pull/errors.js';
import { sendRegistryError } from '../../../src/routes/registry-error-handler.js';

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
