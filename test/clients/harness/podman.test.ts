import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pushFixtureImage } from '../../helpers/clients/fixture-image.js';
import { type PodmanEnv, startPodmanEnv } from '../../helpers/clients/podman.js';
import { type Registry, startRegistry } from '../../helpers/registry.js';

// There is no Docker Hub from this machine, so a successful pull of docker.io/... proves that podman
// went to the fixture registry.
describe('podman helper against a real registry', () => {
  let registry: Registry;
  let pushed: string;
  const envs: PodmanEnv[] = [];

  beforeAll(async () => {
    registry = await startRegistry();
    pushed = await pushFixtureImage(registry.host, 'library/app:v1');
  });

  afterAll(async () => {
    for (const env of envs) await env.stop();
    await registry?.stop();
  });

  it.each(['mirror', 'rewrite'] as const)(
    'pulls docker.io/library/app:v1 via the registry (%s)',
    async (mode) => {
      const env = await startPodmanEnv({ registryHost: registry.host, mode, prefix: 'docker.io' });
      envs.push(env);
      const before = (await registry.accessLog()).length;
      const result = await env.pull('docker.io/library/app:v1');
      console.log(`podman pull (${mode}): ${result.elapsedMs.toFixed(0)} ms`);
      expect(result.digest).toBe(pushed);
      expect(result.repoDigests).toContain(`docker.io/library/app@${pushed}`);
      expect(result.imageId).toMatch(/^[0-9a-f]{64}$/);
      const seen = (await registry.accessLog()).slice(before);
      expect(seen.some((e) => e.path.startsWith('/v2/library/app/manifests/'))).toBe(true);
    },
  );
});
