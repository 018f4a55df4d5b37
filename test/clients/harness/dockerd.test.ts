import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DockerdEnv, startDockerd } from '../../helpers/clients/dockerd.js';
import { pushFixtureImage } from '../../helpers/clients/fixture-image.js';
import { type Registry, startRegistry } from '../../helpers/registry.js';

describe('dockerd helper against a real registry', () => {
  let registry: Registry;
  let dockerd: DockerdEnv;
  let pushed: string;

  beforeAll(async () => {
    registry = await startRegistry();
    pushed = await pushFixtureImage(registry.host, 'library/app:v1');
    dockerd = await startDockerd({ registryMirror: registry.url, insecureRegistries: [registry.host] });
    console.log(`dockerd startup: ${dockerd.startupMs.toFixed(0)} ms`);
  });

  afterAll(async () => {
    await dockerd?.stop();
    await registry?.stop();
  });

  // No Docker Hub here: success means dockerd used the registry as its docker.io mirror.
  it('pulls docker.io/library/app:v1 via the registry mirror', async () => {
    const before = (await registry.accessLog()).length;
    const result = await dockerd.pull('docker.io/library/app:v1');
    console.log(`docker pull (mirror): ${result.elapsedMs.toFixed(0)} ms`);
    expect(result.digest).toBe(pushed);
    expect(result.repoDigests).toContain(`app@${pushed}`);
    const seen = (await registry.accessLog()).slice(before);
    expect(seen.some((e) => e.path.startsWith('/v2/library/app/manifests/'))).toBe(true);
  });

  it('pulls straight from the registry as an insecure registry', async () => {
    const result = await dockerd.pull(`${registry.host}/library/app:v1`);
    expect(result.digest).toBe(pushed);
    expect(result.repoDigests).toContain(`${registry.host}/library/app@${pushed}`);
  });
});
