import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FaultServer, startFaultServer } from '../../helpers/fault-server.js';
import { type Pullgate, startPullgate } from '../../helpers/pullgate.js';

// PULLGATE_UPSTREAM_HEADERS_TIMEOUT bounds the wait for an upstream's answer. A real registry does not hang on
// request, so an in-process server accepts and never answers.
let upstream: FaultServer;
let pullgate: Pullgate;

beforeAll(async () => {
  upstream = await startFaultServer(async (_req, res) => {
    await new Promise((r) => setTimeout(r, 5_000));
    res.writeHead(404);
    res.end();
  });
  pullgate = await startPullgate({
    env: { PULLGATE_UPSTREAM: upstream.url, PULLGATE_UPSTREAM_HEADERS_TIMEOUT: '0.5' },
  });
});
afterAll(async () => {
  await pullgate?.stop();
  await upstream?.stop();
});

describe('the upstream headers timeout setting', () => {
  it('answers 504 UNAVAILABLE naming the timeout once the configured wait has passed', async () => {
    const res = await fetch(`${pullgate.url}/v2/library/hang/manifests/latest`);
    const body = (await res.json()) as { errors: { code: string; message: string; detail: unknown }[] };
    expect(res.status).toBe(504);
    expect(body.errors[0]).toMatchObject({
      code: 'UNAVAILABLE',
      message: `upstream ${new URL(upstream.url).host} timed out`,
      detail: { cause: 'UND_ERR_HEADERS_TIMEOUT' },
    });
  });
});
