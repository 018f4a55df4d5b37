import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ContainerdEnv, startContainerd, writeHostsToml } from '../../helpers/clients/containerd.js';
import { type SeededImages, seedRegistry } from '../../helpers/images.js';
import { type Pullgate, startPullgate } from '../../helpers/pullgate.js';
import { type Registry, startRegistry } from '../../helpers/registry.js';
import { agents, type LoggedRequest, requestLog, SHAPES } from './through-pullgate.js';

// Issue 2 "done when": containerd's ctr, with a hosts.toml whose `server` is pullgate (no fallback to the
// real registry: the enforcing configuration), pulls every image shape and records the digest that was
// pushed — the digest a direct pull from the registry records too. Only non-root shapes: a policy may deny root.

describe('ctr pulls every image shape through pullgate named in hosts.toml', () => {
  let registry: Registry;
  let seeded: SeededImages;
  let pullgate: Pullgate;
  let containerd: ContainerdEnv;
  // pullgate's own request log (pino JSON lines): what the client really sent to it.
  const pullgateRequests: LoggedRequest[] = [];

  beforeAll(async () => {
    registry = await startRegistry();
    seeded = await seedRegistry(registry);
    pullgate = await startPullgate({
      env: { PULLGATE_UPSTREAM: registry.url },
      logger: requestLog(pullgateRequests),
    });
    containerd = await startContainerd();
    await writeHostsToml(containerd.hostsDir, 'docker.io', { url: pullgate.url });
  });

  afterAll(async () => {
    await containerd?.stop();
    await pullgate?.stop();
    await registry?.stop();
  });

  // Removing the image with a synchronous garbage collection drops its content, so the next pull fetches every
  // blob again instead of reusing layers the shapes share.
  async function forget(ref: string): Promise<void> {
    await containerd.ctr(['images', 'rm', '--sync', ref]);
  }

  it.each(SHAPES)('ctr pull docker.io/library/app:%s via pullgate gives the pushed digest', async (shape) => {
    const ref = `docker.io/${seeded.repo}:${shape}`;
    const logBefore = (await registry.accessLog()).length;
    const pullgateBefore = pullgateRequests.length;
    const via = await containerd.pull(ref, { hostsDir: containerd.hostsDir });
    console.log(`ctr pull ${shape} via pullgate: ${via.elapsedMs.toFixed(0)} ms`);
    const viaSeen = (await registry.accessLog()).slice(logBefore);
    await forget(ref);

    // containerd names the registry it stands in for on every request it sends to a hosts.toml server.
    const sent = pullgateRequests.slice(pullgateBefore);
    expect(sent.some((r) => r.url === `/v2/${seeded.repo}/manifests/${shape}?ns=docker.io`)).toBe(true);
    expect(sent.some((r) => r.url.startsWith(`/v2/${seeded.repo}/blobs/sha256:`))).toBe(true);
    expect(sent.every((r) => r.url.endsWith('?ns=docker.io'))).toBe(true);

    const directRef = `${registry.host}/${seeded.repo}:${shape}`;
    const logMid = (await registry.accessLog()).length;
    const direct = await containerd.pull(directRef, { plainHttp: true });
    const directSeen = (await registry.accessLog()).slice(logMid);
    await forget(directRef);

    expect(via.digest).toBe(seeded.digests[shape]);
    expect(via.digest).toBe(direct.digest);
    expect(via.mediaType).toBe(direct.mediaType);
    // The registry resolved the tag for pullgate, and never heard from containerd while it pulled via pullgate.
    expect(viaSeen.some((e) => e.path === `/v2/${seeded.repo}/manifests/${shape}`)).toBe(true);
    expect(directSeen.length).toBeGreaterThan(0);
    for (const agent of agents(directSeen)) expect(agents(viaSeen).has(agent)).toBe(false);
  });
});
