import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DockerdEnv, startDockerd } from '../../helpers/clients/dockerd.js';
import { pushFixtureImage } from '../../helpers/clients/fixture-image.js';
import { type PodmanEnv, startPodmanEnv } from '../../helpers/clients/podman.js';
import { skopeoCopy } from '../../helpers/clients/skopeo.js';
import { type Registry, startRegistry } from '../../helpers/registry.js';

// A made-up account for a throw-away registry, not a credential.
const creds = { user: 'puller', password: 'fixture-password' };

describe('client helpers authenticate to a basic-auth registry', () => {
  let registry: Registry;
  let pushed: string;
  let podman: PodmanEnv | undefined;
  let dockerd: DockerdEnv | undefined;

  beforeAll(async () => {
    registry = await startRegistry({
      auth: 'basic',
      credentials: { username: creds.user, password: creds.password },
    });
    pushed = await pushFixtureImage(registry.host, 'library/app:v1', { creds });
  });

  afterAll(async () => {
    await podman?.stop();
    await dockerd?.stop();
    await registry?.stop();
  });

  it('skopeo: anonymous pull is refused, pull with creds gets the pushed digest', async () => {
    const ref = `${registry.host}/library/app:v1`;
    await expect(skopeoCopy(ref)).rejects.toThrow(/unauthorized|authentication required/i);
    expect((await skopeoCopy(ref, { creds })).manifestDigest).toBe(pushed);
  });

  it('podman: pull works only after login', async () => {
    podman = await startPodmanEnv({ registryHost: registry.host, mode: 'rewrite' });
    await expect(podman.pull('docker.io/library/app:v1')).rejects.toThrow(
      /unauthorized|authentication required/i,
    );
    await podman.login(registry.host, creds.user, creds.password);
    expect((await podman.pull('docker.io/library/app:v1')).digest).toBe(pushed);
  });

  it('docker: pull works only after login', async () => {
    dockerd = await startDockerd({ insecureRegistries: [registry.host] });
    const ref = `${registry.host}/library/app:v1`;
    await expect(dockerd.pull(ref)).rejects.toThrow(/no basic auth credentials|unauthorized/i);
    await dockerd.login(registry.host, creds.user, creds.password);
    expect((await dockerd.pull(ref)).digest).toBe(pushed);
  });
});
