import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { useSeededPullgate } from '../../helpers/seeded-pullgate.js';

// Issue 10, path 6: every 4xx/5xx answer is an OCI error body; Fastify's own shapes never reach a client.
const setup = useSeededPullgate({ PULLGATE_ADMIN_TOKEN: 'test-admin-token' });

interface OciErrors {
  errors: { code: string; message: string }[];
}

function expectOciError(body: unknown): void {
  const errors = (body as OciErrors).errors;
  expect(Array.isArray(errors)).toBe(true);
  expect(errors.length).toBeGreaterThan(0);
  for (const e of errors) {
    expect(typeof e.code).toBe('string');
    expect(typeof e.message).toBe('string');
  }
}

/** One raw HTTP/1.1 exchange: fetch() would refuse to send some of these requests at all. */
function raw(port: number, request: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let data = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      data += chunk;
    });
    socket.on('error', reject);
    socket.on('close', () => {
      const [head = '', body = ''] = data.split('\r\n\r\n');
      resolve({ status: Number(head.split(' ')[1]), body });
    });
    socket.end(request);
  });
}

describe('error answers', () => {
  it('a bad percent-escape in the path is a 400 OCI error, not FST_ERR_BAD_URL', async () => {
    const res = await fetch(`${setup.pullgate.url}/v2/lib%ZZrary/app/manifests/latest`);
    expect(res.status).toBe(400);
    const body = await res.json();
    expectOciError(body);
    expect(JSON.stringify(body)).not.toContain('FST_');
  });

  it('an unknown path outside /v2 is a 404 OCI error', async () => {
    const res = await fetch(`${setup.pullgate.url}/no/such/thing`);
    expect(res.status).toBe(404);
    expectOciError(await res.json());
  });

  it('oversized request headers are a 431 OCI error', async () => {
    const big = 'a'.repeat(20_000);
    const res = await raw(
      setup.pullgate.port,
      `GET /v2/ HTTP/1.1\r\nHost: x\r\nX-Big: ${big}\r\nConnection: close\r\n\r\n`,
    );
    expect(res.status).toBe(431);
    expectOciError(JSON.parse(res.body));
  });

  it('a malformed request line is a 400 OCI error', async () => {
    const res = await raw(setup.pullgate.port, 'GARBAGE\r\n\r\n');
    expect(res.status).toBe(400);
    expectOciError(JSON.parse(res.body));
  });

  it('a malformed body on a write is the write refusal, not a parser error', async () => {
    const res = await fetch(`${setup.pullgate.url}/v2/app/blobs/uploads/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{not json',
    });
    expect(res.status).toBe(405);
    const body = (await res.json()) as OciErrors;
    expect(body.errors[0]?.code).toBe('UNSUPPORTED');
  });

  it('an admin body-parser error is an OCI error body', async () => {
    const res = await fetch(`${setup.pullgate.url}/admin/alerts/1/approve`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer test-admin-token' },
      body: '{not json',
    });
    expect(res.status).toBe(400);
    expectOciError(await res.json());
  });

  it('an admin refusal is an OCI error body', async () => {
    const res = await fetch(`${setup.pullgate.url}/admin/alerts`);
    expect(res.status).toBe(401);
    expectOciError(await res.json());
  });
});
