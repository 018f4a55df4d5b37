import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { askRegistry, type FaultServer, startFaultServer } from '../../helpers/fault-server.js';
import { PLANTED_AWS_SECRET, type SeededImages, seedRegistry } from '../../helpers/images.js';
import { ociErrorCode } from '../../helpers/oci-error-body.js';
import { type Pullgate, startPullgate } from '../../helpers/pullgate.js';
import { type Registry, startRegistry } from '../../helpers/registry.js';

// Issue 10, path 2: what a manifest is comes from its bytes, not the upstream's Content-Type. The real registry
// with the seeded images sits behind a forwarder that rewrites manifest Content-Types the way static and
// S3-backed registries answer (application/octet-stream), or answers a login page (text/html).
const UPSTREAM = 'static.test';
let registry: Registry;
let seeded: SeededImages;
let forwarder: FaultServer;
let pullgate: Pullgate;
const loginPage = '<!doctype html><html><body><form action="/login">Sign in</form></body></html>';

beforeAll(async () => {
  registry = await startRegistry();
  seeded = await seedRegistry(registry);
  forwarder = await startFaultServer(async (req, res) => {
    if (req.url?.includes('/login-page/') && req.url.includes('/manifests/')) {
      res.writeHead(200, {
        'content-type': 'text/html',
        'content-length': String(Buffer.byteLength(loginPage)),
      });
      res.end(req.method === 'HEAD' ? undefined : loginPage);
      return;
    }
    const answer = await askRegistry(registry.url, req);
    if (req.url?.includes('/manifests/')) answer.headers['content-type'] = 'application/octet-stream';
    res.writeHead(answer.status, answer.headers);
    res.end(req.method === 'HEAD' ? undefined : answer.body);
  });
  pullgate = await startPullgate({
    env: { PULLGATE_UPSTREAM: registry.url, PULLGATE_UPSTREAMS: `${UPSTREAM}=${forwarder.url}` },
  });
});
afterAll(async () => {
  await pullgate?.stop();
  await forwarder?.stop();
  await registry?.stop();
});

async function get(path: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`${pullgate.url}${path}`);
  return { status: res.status, body: await res.text() };
}

describe('a manifest under application/octet-stream', () => {
  it('of a root or secret image is judged and refused, by tag and by digest', async () => {
    for (const tag of ['root', 'secretenv'] as const) {
      for (const reference of [tag, seeded.digests[tag]]) {
        const answer = await get(`/v2/${UPSTREAM}/${seeded.repo}/manifests/${reference}`);
        expect([answer.status, ociErrorCode(answer.body)], `${tag} ${reference}`).toEqual([403, 'DENIED']);
        expect(answer.body.includes(PLANTED_AWS_SECRET)).toBe(false);
      }
    }
  });
});

describe('a login page where a manifest should be', () => {
  it('is refused with 502 UNAVAILABLE naming the upstream', async () => {
    const answer = await get(`/v2/${UPSTREAM}/login-page/app/manifests/latest`);
    expect([answer.status, ociErrorCode(answer.body)], answer.body).toEqual([502, 'UNAVAILABLE']);
    expect(answer.body).toContain(UPSTREAM);
  });
});
