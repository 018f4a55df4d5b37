import { afterAll, describe, expect, it } from 'vitest';
import { seedRegistry } from '../../helpers/images.js';
import { type Pullgate, startPullgate } from '../../helpers/pullgate.js';
import { type Registry, startRegistry } from '../../helpers/registry.js';

// pullgate answers the upstream's challenge: Basic with credentials from the environment, anonymous Bearer
// tokens (Docker Hub's flow), and tokens obtained with credentials; tokens are cached per scope.
const started: { stop(): Promise<void> }[] = [];
afterAll(async () => {
  for (const s of started.reverse()) await s.stop();
});

async function pullThrough(
  upstream: Registry,
  env: Record<string, string>,
): Promise<{ pullgate: Pullgate; digest: string }> {
  const seeded = await seedRegistry(upstream);
  const pullgate = await startPullgate({ env: { PULLGATE_UPSTREAM: upstream.url, ...env } });
  started.push(pullgate);
  const res = await fetch(`${pullgate.url}/v2/app/manifests/nonroot`, {
    headers: { accept: 'application/vnd.oci.image.manifest.v1+json' },
  });
  expect(res.status).toBe(200);
  expect(res.headers.get('docker-content-digest')).toBe(seeded.digests.nonroot);
  return { pullgate, digest: seeded.digests.nonroot };
}

describe('upstream authentication', () => {
  it('uses Basic credentials from the environment, and says so when there are none', async () => {
    const upstream = await startRegistry({ auth: 'basic' });
    started.push(upstream);
    const creds = upstream.credentials;
    if (creds === undefined) throw new Error('registry has no credentials');
    await pullThrough(upstream, {
      PULLGATE_UPSTREAM_USERNAME: creds.username,
      PULLGATE_UPSTREAM_PASSWORD: creds.password,
    });
    const anonymous = await startPullgate({ env: { PULLGATE_UPSTREAM: upstream.url } });
    started.push(anonymous);
    const res = await fetch(`${anonymous.url}/v2/app/manifests/nonroot`);
    expect(res.status).toBe(401);
    const body = (await res.json()) as { errors: { code: string; message: string }[] };
    expect(body.errors[0]?.code).toBe('UNAUTHORIZED');
    expect(JSON.stringify(body)).not.toContain(creds.password);
  });

  it('follows the anonymous Bearer challenge and caches the token per scope', async () => {
    const upstream = await startRegistry({ auth: 'token' });
    started.push(upstream);
    const { pullgate, digest } = await pullThrough(upstream, { PULLGATE_TAG_TTL: '0' });
    const tokenServer = upstream.tokenServer;
    if (tokenServer === undefined) throw new Error('no token server');
    const before = tokenServer.tokenRequests();
    for (let i = 0; i < 10; i++) {
      const res = await fetch(`${pullgate.url}/v2/app/manifests/${digest}`, { method: 'HEAD' });
      expect(res.status).toBe(200);
      const tag = await fetch(`${pullgate.url}/v2/app/manifests/nonroot`, { method: 'HEAD' });
      expect(tag.status).toBe(200);
    }
    // Ten tag resolutions (TTL 0 asks the upstream every time) on one cached token.
    expect(tokenServer.tokenRequests()).toBe(before);
  });

  it('obtains tokens with credentials when anonymous tokens are refused', async () => {
    const upstream = await startRegistry({ auth: 'token', token: { anonymous: false } });
    started.push(upstream);
    const creds = upstream.credentials;
    if (creds === undefined) throw new Error('registry has no credentials');
    await pullThrough(upstream, {
      PULLGATE_UPSTREAM_USERNAME: creds.username,
      PULLGATE_UPSTREAM_PASSWORD: creds.password,
    });
  });
});
