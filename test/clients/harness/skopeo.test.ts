import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pushFixtureImage } from '../../helpers/clients/fixture-image.js';
import { skopeoCopy, skopeoInspect } from '../../helpers/clients/skopeo.js';
import { type Registry, startRegistry } from '../../helpers/registry.js';

describe('skopeo helper against a real registry', () => {
  let registry: Registry;
  let pushed: string;

  beforeAll(async () => {
    registry = await startRegistry();
    pushed = await pushFixtureImage(registry.host, 'library/app:v1');
  });

  afterAll(async () => {
    await registry?.stop();
  });

  it('copy reports the manifest digest that was pushed', async () => {
    const result = await skopeoCopy(`${registry.host}/library/app:v1`);
    console.log(`skopeo copy: ${result.elapsedMs.toFixed(0)} ms`);
    expect(result.manifestDigest).toBe(pushed);
  });

  it('inspect -n returns the digest and platform without listing tags', async () => {
    const info = await skopeoInspect(`${registry.host}/library/app:v1`);
    expect(info.Digest).toBe(pushed);
    expect(info.Architecture).toBe('amd64');
    expect((await registry.accessLog()).some((e) => e.uri.includes('/tags/list'))).toBe(false);
  });

  it("surfaces skopeo's stderr when the pull fails", async () => {
    await expect(skopeoCopy(`${registry.host}/library/app:absent`)).rejects.toThrow(/manifest unknown/);
  });
});
