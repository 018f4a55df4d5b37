import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DockerdEnv, startDockerd } from '../../helpers/clients/dockerd.js';
import { type SeededImages, seedRegistry } from '../../helpers/images.js';
import { type Pullgate, startPullgate } from '../../helpers/pullgate.js';
import { type Registry, startRegistry } from '../../helpers/registry.js';
import { agents, type LoggedRequest, requestLog, SHAPES } from './through-pullgate.js';

// Issue 2 "done when": dockerd pulls every image shape through pullgate, both with pullgate as its
// `--registry-mirror` (docker.io/library/app:<tag>) and by pullgate's own name (`docker pull
// 127.0.0.1:P/library/app:<tag>`, the form that shows a denial), and ends with the digest a direct pull from
// the registry gives. Only non-root shapes: a policy may deny root.

describe('dockerd pulls every image shape through pullgate', () => {
  let registry: Registry;
  let seeded: SeededImages;
  let pullgate: Pullgate;
  let dockerd: DockerdEnv;
  // pullgate's own request log (pino JSON lines): what dockerd really sent to it.
  const pullgateRequests: LoggedRequest[] = [];

  beforeAll(async () => {
    registry = await startRegistry();
    seeded = await seedRegistry(registry);
    pullgate = await startPullgate({
      env: { PULLGATE_UPSTREAM: registry.url },
      logger: requestLog(pullgateRequests),
    });
    dockerd = await startDockerd({
      registryMirror: pullgate.url,
      insecureRegistries: [pullgate.host, registry.host],
    });
  });

  afterAll(async () => {
    await dockerd?.stop();
    await pullgate?.stop();
    await registry?.stop();
  });

  /**
   * Pulls `ref`, then removes the image so the next pull fetches every layer again (the shapes share layers,
   * and dockerd skips layers it has). Returns the pull and what the registry and pullgate saw meanwhile.
   */
  async function pullFresh(ref: string) {
    const logBefore = (await registry.accessLog()).length;
    const pullgateBefore = pullgateRequests.length;
    const result = await dockerd.pull(ref);
    const upstreamSeen = (await registry.accessLog()).slice(logBefore);
    const pullgateSeen = pullgateRequests.slice(pullgateBefore);
    await dockerd.docker(['image', 'rm', '--force', ref]);
    return { result, upstreamSeen, pullgateSeen };
  }

  it.each(SHAPES)(
    'docker pull of %s via mirror and by pullgate name gives the direct digest',
    async (shape) => {
      const manifestByTag = `/v2/${seeded.repo}/manifests/${shape}`;
      const blobs = `/v2/${seeded.repo}/blobs/sha256:`;

      const mirror = await pullFresh(`docker.io/${seeded.repo}:${shape}`);
      console.log(`docker pull ${shape} via mirror: ${mirror.result.elapsedMs.toFixed(0)} ms`);
      expect(mirror.pullgateSeen.some((r) => r.url === manifestByTag)).toBe(true);
      expect(mirror.pullgateSeen.some((r) => r.url.startsWith(blobs))).toBe(true);

      const named = await pullFresh(`${pullgate.host}/${seeded.repo}:${shape}`);
      console.log(`docker pull ${shape} by pullgate name: ${named.result.elapsedMs.toFixed(0)} ms`);
      expect(named.pullgateSeen.some((r) => r.url === manifestByTag)).toBe(true);
      expect(named.pullgateSeen.some((r) => r.url.startsWith(blobs))).toBe(true);

      const direct = await pullFresh(`${registry.host}/${seeded.repo}:${shape}`);

      expect(direct.result.digest).toBe(seeded.digests[shape]);
      expect(mirror.result.digest).toBe(direct.result.digest);
      expect(named.result.digest).toBe(direct.result.digest);
      expect(mirror.result.imageId).toBe(direct.result.imageId);
      expect(named.result.imageId).toBe(direct.result.imageId);
      // The CLI shortens docker.io names in RepoDigests.
      expect(mirror.result.repoDigests).toContain(`app@${seeded.digests[shape]}`);
      expect(named.result.repoDigests).toContain(`${pullgate.host}/${seeded.repo}@${seeded.digests[shape]}`);

      // pullgate resolved the tag upstream (once: the second pull falls in its tag resolution window), and
      // dockerd's own user agent (seen on the direct pull) never reached the registry while it used pullgate.
      const viaSeen = [...mirror.upstreamSeen, ...named.upstreamSeen];
      expect(viaSeen.some((e) => e.path === manifestByTag)).toBe(true);
      expect(direct.upstreamSeen.length).toBeGreaterThan(0);
      for (const agent of agents(direct.upstreamSeen)) expect(agents(viaSeen).has(agent)).toBe(false);
    },
  );
});
