import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pushImage, skopeoInspectDigest, testImages } from '../../helpers/images.js';
import { run } from '../../helpers/proc.js';
import { type Registry, startRegistry } from '../../helpers/registry.js';

// A registry behind the test token server: skopeo follows the Bearer challenge with no extra flags.
describe('startRegistry({ auth: "token" })', () => {
  let registry: Registry;

  beforeAll(async () => {
    registry = await startRegistry({ auth: 'token' });
  });
  afterAll(async () => {
    await registry?.stop();
  });

  it('challenges with Bearer pointing at the token server', async () => {
    const res = await fetch(`${registry.url}/v2/`);
    await res.arrayBuffer();
    expect(res.status).toBe(401);
    const challenge = res.headers.get('www-authenticate') ?? '';
    expect(challenge).toContain(`Bearer realm="${registry.tokenServer?.realm}"`);
    expect(challenge).toContain('service="test-registry"');
  });

  it('lets skopeo push with credentials and pull anonymously', async () => {
    const layout = await testImages();
    const before = registry.tokenServer?.tokenRequests() ?? 0;
    const digest = await pushImage(layout.dir, 'root', registry, 'library/app', 'root');
    expect(digest).toBe(layout.digests.root);
    const inspected = await skopeoInspectDigest(`docker://${registry.host}/library/app:root`);
    expect(inspected).toBe(digest);
    expect(registry.tokenServer?.tokenRequests() ?? 0).toBeGreaterThan(before);
    const anonymous = registry.tokenServer?.requests().filter((r) => !r.authenticated) ?? [];
    expect(anonymous.length).toBeGreaterThan(0);
  });

  it('refuses an anonymous push', async () => {
    const layout = await testImages();
    const res = await run(
      'skopeo',
      [
        'copy',
        '--quiet',
        '--dest-tls-verify=false',
        '--dest-no-creds',
        `oci:${layout.dir}:nonroot`,
        `docker://${registry.host}/library/app:anon`,
      ],
      { allowFailure: true },
    );
    expect(res.code).not.toBe(0);
    expect(res.stderr).toMatch(/unauthorized|authentication required|denied/i);
  });
});
