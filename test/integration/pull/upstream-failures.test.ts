import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FaultServer, startFaultServer } from '../../helpers/fault-server.js';
import { getFreePort } from '../../helpers/ports.js';
import { type Pullgate, startPullgate } from '../../helpers/pullgate.js';

// Upstream faults are mapped to OCI errors a client can act on; nothing raw passes through.
let upstream: FaultServer;
let pullgate: Pullgate;

beforeAll(async () => {
  upstream = await startFaultServer(async (req, res) => {
    const repo = /^\/v2\/library\/([^/]+)\//.exec(req.url ?? '')?.[1] ?? '';
    switch (repo) {
      case 'ratelimited':
        res.writeHead(429, { 'retry-after': '17', 'content-type': 'application/json' });
        res.end('{"errors":[{"code":"TOOMANYREQUESTS","message":"you have reached your pull rate limit"}]}');
        return;
      case 'private':
        res.writeHead(401, { 'content-type': 'application/json' });
        res.end('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}');
        return;
      case 'forbidden':
        res.writeHead(403, { 'content-type': 'application/json' });
        res.end('{"errors":[{"code":"DENIED","message":"requested access to the resource is denied"}]}');
        return;
      case 'broken':
        res.writeHead(500, { 'content-type': 'text/html' });
        res.end('<html>stack trace at com.example.Registry</html>');
        return;
      case 'reset':
        req.socket.destroy();
        return;
      case 'slow':
        await new Promise((r) => setTimeout(r, 2_000));
        res.writeHead(200);
        res.end();
        return;
      default:
        res.writeHead(404);
        res.end();
    }
  });
  pullgate = await startPullgate({
    env: { PULLGATE_UPSTREAM: upstream.url },
    tweak: (config) => {
      config.upstreamTimeouts.headersMs = 300;
    },
  });
});
afterAll(async () => {
  await pullgate?.stop();
  await upstream?.stop();
});

async function answer(path: string) {
  const res = await fetch(`${pullgate.url}${path}`);
  const text = await res.text();
  const body = JSON.parse(text) as { errors: { code: string; message: string }[] };
  return {
    status: res.status,
    code: body.errors[0]?.code,
    message: body.errors[0]?.message ?? '',
    text,
    res,
  };
}

describe('upstream failures', () => {
  it('maps 429 to TOOMANYREQUESTS with Retry-After', async () => {
    const a = await answer('/v2/ratelimited/manifests/latest');
    expect(a.status).toBe(429);
    expect(a.code).toBe('TOOMANYREQUESTS');
    expect(a.res.headers.get('retry-after')).toBe('17');
  });

  it('maps 401 and 403 to UNAUTHORIZED and DENIED, saying it was the upstream', async () => {
    const unauthorized = await answer('/v2/private/manifests/latest');
    expect(unauthorized).toMatchObject({ status: 401, code: 'UNAUTHORIZED' });
    expect(unauthorized.message).toMatch(/upstream/);
    const denied = await answer('/v2/forbidden/manifests/latest');
    expect(denied).toMatchObject({ status: 403, code: 'DENIED' });
    expect(denied.message).toMatch(/upstream/);
  });

  it('maps a 500, a reset and a stall to 502/504 UNAVAILABLE without passing the upstream body', async () => {
    const broken = await answer('/v2/broken/manifests/latest');
    expect(broken).toMatchObject({ status: 502, code: 'UNAVAILABLE' });
    expect(broken.text).not.toContain('stack trace');
    expect(await answer('/v2/reset/manifests/latest')).toMatchObject({ status: 502, code: 'UNAVAILABLE' });
    expect(await answer('/v2/slow/manifests/latest')).toMatchObject({ status: 504, code: 'UNAVAILABLE' });
    expect(await answer(`/v2/reset/blobs/sha256:${'a'.repeat(64)}`)).toMatchObject({
      status: 502,
      code: 'UNAVAILABLE',
    });
  });

  it('maps a refused connection to 502 UNAVAILABLE', async () => {
    const closedPort = await getFreePort();
    const offline = await startPullgate({ env: { PULLGATE_UPSTREAM: `http://127.0.0.1:${closedPort}` } });
    try {
      const res = await fetch(`${offline.url}/v2/library/app/manifests/latest`);
      expect(res.status).toBe(502);
      expect(((await res.json()) as { errors: { code: string }[] }).errors[0]?.code).toBe('UNAVAILABLE');
    } finally {
      await offline.stop();
    }
  });
});
