import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PodmanEnv, startPodmanEnv } from '../../helpers/clients/podman.js';
import { skopeoCopy } from '../../helpers/clients/skopeo.js';
import { pushImage, testImages } from '../../helpers/images.js';
import { type Pullgate, startPullgate } from '../../helpers/pullgate.js';
import { type Registry, startRegistry } from '../../helpers/registry.js';

// The pull tests compare digests; this one shows the clients in them really depend on pullgate: with pullgate
// gone, the same client configuration cannot pull, although the registry behind it is still up. podman uses
// the rewrite (`location=`) configuration, which has no fallback to the real registry.
describe('clients configured for pullgate cannot pull once pullgate is stopped', () => {
  let registry: Registry;
  let pullgate: Pullgate | undefined;
  let podman: PodmanEnv;
  let pushed: string;
  const repo = 'library/app';

  beforeAll(async () => {
    registry = await startRegistry();
    const layout = await testImages();
    pushed = await pushImage(layout.dir, 'nonroot', registry, repo, 'nonroot');
    pullgate = await startPullgate({ env: { PULLGATE_UPSTREAM: registry.url } });
    podman = await startPodmanEnv({ registryHost: pullgate.host, mode: 'rewrite', prefix: 'docker.io' });
  });

  afterAll(async () => {
    await podman?.stop();
    await pullgate?.stop();
    await registry?.stop();
  });

  it('pulls through a running pullgate, then fails at pullgate’s address after it stops', async () => {
    const running = pullgate;
    if (running === undefined) throw new Error('pullgate did not start');
    const viaRef = `${running.host}/${repo}:nonroot`;
    expect((await skopeoCopy(viaRef)).manifestDigest).toBe(pushed);
    expect((await podman.pull(`docker.io/${repo}:nonroot`)).digest).toBe(pushed);

    await running.stop();
    pullgate = undefined;

    await expect(skopeoCopy(viaRef)).rejects.toThrow(/connection refused/);
    // A fresh podman store: the first one already holds the image and would not ask the registry for blobs.
    const fresh = await startPodmanEnv({ registryHost: running.host, mode: 'rewrite', prefix: 'docker.io' });
    try {
      await expect(fresh.pull(`docker.io/${repo}:nonroot`)).rejects.toThrow(/connection refused/);
    } finally {
      await fresh.stop();
    }
    // The registry itself still serves the image: the failures are pullgate's absence, nothing else.
    expect((await skopeoCopy(`${registry.host}/${repo}:nonroot`)).manifestDigest).toBe(pushed);
  });
});
