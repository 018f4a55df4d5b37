import { describe, expect, it } from 'vitest';
import { ociErrorProblem } from '../../helpers/oci-error-body.js';
import { rawRequest } from '../../helpers/raw-http.js';
import { useSeededPullgate } from '../../helpers/seeded-pullgate.js';

// Issue 10, path 6: every error answer is an OCI error body `{"errors":[{"code","message","detail"?}]}`,
// including the ones Fastify and Node's HTTP parser produce before any pullgate route runs. Raw requests, so the
// bytes reach the server exactly as written.
const setup = useSeededPullgate({ PULLGATE_ADMIN_TOKEN: 'error-bodies-admin' });

async function expectOciError(
  request: Parameters<typeof rawRequest>[1],
  status: number | ((s: number) => boolean),
): Promise<void> {
  const res = await rawRequest(setup.pullgate.port, request);
  expect(res, 'no answer at all').toBeDefined();
  if (res === undefined) return;
  const what = `${res.status} ${res.body.toString('utf8').slice(0, 300)}`;
  if (typeof status === 'number') expect(res.status, what).toBe(status);
  else expect(status(res.status), what).toBe(true);
  expect(ociErrorProblem(res.body), what).toBeUndefined();
  expect(res.headers['content-type'] ?? '', what).toMatch(/^application\/json/);
}

describe('error answers', () => {
  it('are OCI errors for a bad percent-escape in the path', async () => {
    await expectOciError({ method: 'GET', target: '/v2/lib%ZZrary/app/manifests/latest' }, 400);
  });

  it('are OCI errors for a bad percent-escape in the reference', async () => {
    await expectOciError(
      { method: 'GET', target: '/v2/library/app/manifests/%E0%A4%A' },
      (s) => s >= 400 && s < 500,
    );
  });

  it('are OCI errors for an unknown route outside /v2/', async () => {
    await expectOciError({ method: 'GET', target: '/no/such/route' }, 404);
  });

  it('are OCI errors for oversized request headers', async () => {
    await expectOciError({ method: 'GET', target: '/v2/', headers: [['x-filler', 'a'.repeat(40_000)]] }, 431);
  });

  it('are OCI errors for a request line the HTTP parser rejects', async () => {
    await expectOciError({ method: 'GET', target: Buffer.from('/v2/\u0000nul', 'latin1') }, 400);
  });

  it('are OCI errors for a body that does not parse', async () => {
    await expectOciError(
      {
        method: 'POST',
        target: '/admin/alerts/1/approve',
        headers: [
          ['content-type', 'application/json'],
          ['authorization', 'Bearer error-bodies-admin'],
        ],
        body: Buffer.from('{"reviewer":'),
      },
      400,
    );
  });

  it('are OCI errors for a body of a type no route accepts', async () => {
    await expectOciError(
      {
        method: 'POST',
        target: '/admin/alerts/1/approve',
        headers: [
          ['content-type', 'application/x-nope'],
          ['authorization', 'Bearer error-bodies-admin'],
        ],
        body: Buffer.from('x'),
      },
      415,
    );
  });

  it('are OCI errors from the admin API when the token is missing', async () => {
    await expectOciError({ method: 'GET', target: '/admin/decisions' }, 401);
  });
});
