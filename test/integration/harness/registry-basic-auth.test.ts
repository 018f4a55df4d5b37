import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pushImage, skopeoInspectDigest, testImages } from '../../helpers/images.js';
import { run } from '../../helpers/proc.js';
import { type Registry, registryFetch, startRegistry } from '../../helpers/registry.js';

// A registry with htpasswd auth takes pushes and pulls with its credentials and nothing without them.
describe('startRegistry({ auth: "basic" })', () => {
  let registry: Registry;

  beforeAll(async () => {
    registry = await startRegistry({ auth: 'basic' });
  });
  afterAll(async () => {
    await registry?.stop();
  });

  it('challenges an anonymous client with Basic', async () => {
    const res = await fetch(`${registry.url}/v2/`);
    await res.arrayBuffer();
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Basic realm="basic-realm"/);
  });

  it('lets skopeo push and inspect with the credentials', async () => {
    const layout = await testImages();
    const { credentials } = registry;
    expect(credentials).toBeDefined();
    const digest = await pushImage(layout.dir, 'nonroot', registry, 'library/app', 'nonroot');
    expect(digest).toBe(layout.digests.nonroot);
    const inspected = await skopeoInspectDigest(`docker://${registry.host}/library/app:nonroot`, {
      creds: credentials,
    });
    expect(inspected).toBe(digest);
  });

  it('refuses skopeo without credentials', async () => {
    const res = await run(
      'skopeo',
      [
        'inspect',
        '--raw',
        '--tls-verify=false',
        '--no-creds',
        `docker://${registry.host}/library/app:nonroot`,
      ],
      { allowFailure: true },
    );
    expect(res.code).not.toBe(0);
    expect(res.stderr).toMatch(/unauthorized|authentication required/i);
  });

  it('refuses a wrong password', async () => {
    const res = await registryFetch(
      { ...registry, credentials: { username: 'tester', password: 'wrong' } },
      '/v2/',
    );
    await res.arrayBuffer();
    expect(res.status).toBe(401);
  });
});
