import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ContainerdEnv, startContainerd, writeHostsToml } from '../../helpers/clients/containerd.js';
import { pushFixtureImage } from '../../helpers/clients/fixture-image.js';
import { type Registry, startRegistry } from '../../helpers/registry.js';

describe('containerd helper against a real registry', () => {
  let registry: Registry;
  let containerd: ContainerdEnv;
  let pushed: string;

  beforeAll(async () => {
    registry = await startRegistry();
    pushed = await pushFixtureImage(registry.host, 'library/app:v1');
    containerd = await startContainerd();
    console.log(`containerd startup: ${containerd.startupMs.toFixed(0)} ms`);
  });

  afterAll(async () => {
    await containerd?.stop();
    await registry?.stop();
  });

  it('pulls docker.io/library/app:v1 through hosts.toml and reports the pushed digest', async () => {
    await writeHostsToml(containerd.hostsDir, 'docker.io', { url: registry.url });
    const result = await containerd.pull('docker.io/library/app:v1', { hostsDir: containerd.hostsDir });
    console.log(`ctr pull (hosts.toml): ${result.elapsedMs.toFixed(0)} ms`);
    expect(result.digest).toBe(pushed);
    expect(result.mediaType).toBe('application/vnd.oci.image.manifest.v1+json');
    // containerd names the upstream it is standing in for on every request (hosts.toml redirection).
    expect(
      (await registry.accessLog()).filter((e) => e.uri.includes('?ns=docker.io')).length,
    ).toBeGreaterThan(0);
  });

  it('pulls straight from the registry with --plain-http', async () => {
    const ref = `${registry.host}/library/app:v1`;
    const result = await containerd.pull(ref, { plainHttp: true });
    expect(result.digest).toBe(pushed);
  });
});
