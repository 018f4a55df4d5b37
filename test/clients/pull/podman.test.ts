import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PodmanEnv, startPodmanEnv } from '../../helpers/clients/podman.js';
import { type SeededImages, seedRegistry } from '../../helpers/images.js';
import { type Pullgate, startPullgate } from '../../helpers/pullgate.js';
import { type Registry, startRegistry } from '../../helpers/registry.js';
import { agents, proxiedRequests, SHAPES } from './through-pullgate.js';

// Issue 2 "done when": podman with docker.io rewritten to pullgate (`location=`, the configuration that
// enforces, containers-registries.conf(5)) pulls every image shape and records the digest that was pushed —
// the same one a podman pointed at the registry itself records. Only non-root shapes: a policy may deny root.

/** Requests pullgate answered on /v2/<name>/... (manifests and blobs), from its own /metrics. */

describe('podman pulls every image shape through pullgate', () => {
  let registry: Registry;
  let seeded: SeededImages;
  let pullgate: Pullgate;
  const envs: PodmanEnv[] = [];

  // podman has no daemon: a fresh store per pull (a temp dir) makes every pull fetch every blob, where one
  // shared store would skip the layers the shapes have in common.
  async function podman(registryHost: string, mode: 'rewrite' | 'mirror'): Promise<PodmanEnv> {
    const env = await startPodmanEnv({ registryHost, mode, prefix: 'docker.io' });
    envs.push(env);
    return env;
  }

  beforeAll(async () => {
    registry = await startRegistry();
    seeded = await seedRegistry(registry);
    pullgate = await startPullgate({ env: { PULLGATE_UPSTREAM: registry.url } });
  });

  afterAll(async () => {
    for (const env of envs) await env.stop();
    await pullgate?.stop();
    await registry?.stop();
  });

  it.each(SHAPES)(
    'podman pull docker.io/library/app:%s rewritten to pullgate gives the pushed digest',
    async (shape) => {
      const ref = `docker.io/${seeded.repo}:${shape}`;
      const logBefore = (await registry.accessLog()).length;
      const servedBefore = await proxiedRequests(pullgate);
      const via = await (await podman(pullgate.host, 'rewrite')).pull(ref);
      console.log(`podman pull ${shape} via pullgate: ${via.elapsedMs.toFixed(0)} ms`);
      const viaSeen = (await registry.accessLog()).slice(logBefore);
      // podman asks for the manifest by tag, the config and at least one layer; pullgate answered them all.
      // The counter moves when a response has finished on the server, which may be a moment after podman exits.
      await expect
        .poll(async () => (await proxiedRequests(pullgate)) - servedBefore, { timeout: 3000 })
        .toBeGreaterThanOrEqual(3);

      const logMid = (await registry.accessLog()).length;
      const direct = await (await podman(registry.host, 'rewrite')).pull(ref);
      const directSeen = (await registry.accessLog()).slice(logMid);

      expect(via.digest).toBe(seeded.digests[shape]);
      expect(via.digest).toBe(direct.digest);
      expect(via.repoDigests.sort()).toEqual(direct.repoDigests.sort());
      expect(via.imageId).toBe(direct.imageId);
      // The tag was resolved upstream during the pull via pullgate, and not by podman itself: podman's user agent
      // (seen on the direct pull) never reached the registry while it was pointed at pullgate.
      expect(viaSeen.some((e) => e.path === `/v2/${seeded.repo}/manifests/${shape}`)).toBe(true);
      expect(directSeen.length).toBeGreaterThan(0);
      for (const agent of agents(directSeen)) expect(agents(viaSeen).has(agent)).toBe(false);
    },
  );

  // A mirror is how most people first point podman at a pull-through cache; there is no Docker Hub from here,
  // so a successful pull had to come from pullgate.
  it('podman pull docker.io/library/app:oci-index with pullgate as a mirror gives the pushed digest', async () => {
    const servedBefore = await proxiedRequests(pullgate);
    const via = await (await podman(pullgate.host, 'mirror')).pull(`docker.io/${seeded.repo}:oci-index`);
    expect(via.digest).toBe(seeded.digests['oci-index']);
    expect(via.repoDigests).toContain(`docker.io/${seeded.repo}@${seeded.children['oci-index'].amd64}`);
    // The counter moves when a response has finished on the server, which may be a moment after podman exits.
    await expect
      .poll(async () => (await proxiedRequests(pullgate)) - servedBefore, { timeout: 3000 })
      .toBeGreaterThanOrEqual(3);
  });
});
