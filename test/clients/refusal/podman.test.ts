import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PodmanEnv, startPodmanEnv } from '../../helpers/clients/podman.js';
import { ClientCommandError } from '../../helpers/clients/proc.js';
import {
  PLANTED_AWS_SECRET,
  PLANTED_NPM_TOKEN,
  type SeededImages,
  seedRegistry,
} from '../../helpers/images.js';
import { type Pullgate, startPullgate } from '../../helpers/pullgate.js';
import { type Registry, startRegistry } from '../../helpers/registry.js';
import { REFUSED } from './refused-images.js';

// Issue 3 "refusal a client sees": podman with a `location=` rewrite (pullgate is the only source for
// docker.io, the enforcing configuration) is refused by the shipped policies, and prints the rule and the
// variable name but never the planted value. podman sends GET manifests/<tag> (no HEAD), so it gets the 403
// DENIED body and prints `denied: <message>`.
describe('podman (location= rewrite to pullgate) is refused with a readable reason', () => {
  let registry: Registry;
  let seeded: SeededImages;
  let pullgate: Pullgate;
  let podman: PodmanEnv;

  beforeAll(async () => {
    registry = await startRegistry();
    seeded = await seedRegistry(registry);
    pullgate = await startPullgate({ env: { PULLGATE_UPSTREAM: registry.url } });
    podman = await startPodmanEnv({ registryHost: pullgate.host, mode: 'rewrite' });
  });

  afterAll(async () => {
    await podman?.stop();
    await pullgate?.stop();
    await registry?.stop();
  });

  async function images(): Promise<string> {
    return podman.podman(['images', '--format', '{{.Repository}}:{{.Tag}} {{.Digest}}']);
  }

  it('pulls the non-root image, so a refusal below is the policy and not a broken setup', async () => {
    const pulled = await podman.pull(`docker.io/${seeded.repo}:nonroot`);
    expect(pulled.digest).toBe(seeded.digests.nonroot);
  });

  it.each(REFUSED)('podman pull of $tag is refused, says why and stores nothing', async ({ tag, reason }) => {
    const outcome = await podman.pull(`docker.io/${seeded.repo}:${tag}`).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(outcome).toBeInstanceOf(ClientCommandError);
    const err = outcome as ClientCommandError;
    expect(err.stderr).toContain(reason);
    // The rewrite names pullgate as the registry: podman reports no fallback anywhere else.
    expect(err.stderr).toContain(pullgate.host);
    expect(err.stderr).not.toContain('registry-1.docker.io');
    for (const text of [err.message, err.stderr]) {
      expect(text).not.toContain(PLANTED_AWS_SECRET);
      expect(text).not.toContain(PLANTED_NPM_TOKEN);
    }
    expect(await images()).not.toContain(`:${tag} `);
  });
});
