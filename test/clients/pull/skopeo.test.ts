import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { skopeoCopy, skopeoInspect } from '../../helpers/clients/skopeo.js';
import { type SeededImages, seedRegistry } from '../../helpers/images.js';
import { type Pullgate, startPullgate } from '../../helpers/pullgate.js';
import { type Registry, startRegistry } from '../../helpers/registry.js';
import { agents, proxiedRequests, SHAPES, type Shape } from './through-pullgate.js';

// Issue 2 "done when": skopeo pulls every image shape through pullgate and ends with the digest a direct pull
// from the same registry gives. Only shapes a non-root policy allows are pulled (the policy may deny `root`).

/** Requests pullgate answered on /v2/<name>/... (manifests and blobs), from its own /metrics. */

describe('skopeo pulls every image shape through pullgate', () => {
  let registry: Registry;
  let seeded: SeededImages;
  let pullgate: Pullgate;

  beforeAll(async () => {
    registry = await startRegistry();
    seeded = await seedRegistry(registry);
    pullgate = await startPullgate({ env: { PULLGATE_UPSTREAM: registry.url } });
  });

  afterAll(async () => {
    await pullgate?.stop();
    await registry?.stop();
  });

  /**
   * What `skopeo copy` to an OCI layout writes without --all: the image itself, or the amd64 child of the
   * index. Docker schema 2 shapes are converted to OCI on the way into the layout, so their digest is new and
   * only the direct copy can say what it must be.
   */
  function expectedCopyDigest(shape: Shape): string | undefined {
    if (shape === 'oci-index') return seeded.children[shape].amd64;
    if (shape === 'v2s2' || shape === 'docker-list') return undefined;
    return seeded.digests[shape];
  }

  it.each(SHAPES)('skopeo copy of %s through pullgate gives the direct digest', async (shape) => {
    const logBefore = (await registry.accessLog()).length;
    const servedBefore = await proxiedRequests(pullgate);
    const via = await skopeoCopy(`${pullgate.host}/${seeded.repo}:${shape}`);
    console.log(`skopeo copy ${shape} via pullgate: ${via.elapsedMs.toFixed(0)} ms`);

    const viaSeen = (await registry.accessLog()).slice(logBefore);
    // manifest (+ child) + config + layers, all answered by pullgate.
    // The counter moves when a response has finished on the server, which may be a moment after skopeo exits.
    await expect
      .poll(async () => (await proxiedRequests(pullgate)) - servedBefore, { timeout: 3000 })
      .toBeGreaterThanOrEqual(3);

    const logMid = (await registry.accessLog()).length;
    const direct = await skopeoCopy(`${registry.host}/${seeded.repo}:${shape}`);
    const directSeen = (await registry.accessLog()).slice(logMid);

    // The registry resolved this tag for pullgate, and never heard skopeo's own user agent (seen on the
    // direct copy) while skopeo was pointed at pullgate: the bytes came through pullgate.
    expect(viaSeen.some((e) => e.path === `/v2/${seeded.repo}/manifests/${shape}`)).toBe(true);
    expect(directSeen.length).toBeGreaterThan(0);
    for (const agent of agents(directSeen)) expect(agents(viaSeen).has(agent)).toBe(false);
    expect(via.manifestDigest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(via.manifestDigest).toBe(direct.manifestDigest);
    expect(via.manifestDigest).toBe(expectedCopyDigest(shape) ?? direct.manifestDigest);
  });

  it.each(SHAPES)('skopeo inspect -n of %s through pullgate reports the direct digest', async (shape) => {
    const via = await skopeoInspect(`${pullgate.host}/${seeded.repo}:${shape}`);
    const direct = await skopeoInspect(`${registry.host}/${seeded.repo}:${shape}`);
    expect(via.Digest).toBe(direct.Digest);
    // inspect names the tag's own manifest: the index or list digest, not a child.
    expect(via.Digest).toBe(seeded.digests[shape]);
    expect(via.Architecture).toBe('amd64');
    expect(via.Layers).toEqual(direct.Layers);
  });
});
