import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Pullgate, startPullgate } from '../../helpers/pullgate.js';
import { type Registry, startRegistry } from '../../helpers/registry.js';

// A local registry as the default upstream is named by its own host in what clients read, never as docker.io
// (issue 17, "Names"): an operator told "upstream docker.io is unreachable" looks in the wrong place.
let upstream: Registry;
let pullgate: Pullgate;

beforeAll(async () => {
  upstream = await startRegistry();
  pullgate = await startPullgate({ env: { PULLGATE_UPSTREAM: upstream.url, PULLGATE_TAG_TTL: '0' } });
  await upstream.stop();
});
afterAll(async () => {
  await pullgate?.stop();
});

describe('the default upstream in error messages', () => {
  it('is named by its host and port when it is down', async () => {
    const res = await fetch(`${pullgate.url}/v2/library/app/manifests/nonroot`);
    const body = (await res.json()) as { errors: { code: string; message: string; detail: unknown }[] };
    expect(res.status).toBe(502);
    expect(body.errors[0]?.message).toBe(`upstream ${upstream.host} is unreachable`);
    expect(body.errors[0]?.detail).toMatchObject({ upstream: upstream.host });
    expect(JSON.stringify(body)).not.toContain('docker.io');
  });
});
