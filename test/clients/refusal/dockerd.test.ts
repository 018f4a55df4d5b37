import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DockerdEnv, startDockerd } from '../../helpers/clients/dockerd.js';
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

// Issue 3 "refusal a client sees": `docker pull PULLGATE/library/app:<tag>` (pullgate named as the registry:
// through --registry-mirror dockerd would fall back to Docker Hub and hide the message, DESIGN.md) is refused
// by the shipped policies. dockerd HEADs the tag (answered with headers), then GETs the manifest, whose 403
// DENIED body docker prints as `denied: <message>`. The planted value must not appear.
describe('docker pull PULLGATE/library/app is refused with a readable reason', () => {
  let registry: Registry;
  let seeded: SeededImages;
  let pullgate: Pullgate;
  let dockerd: DockerdEnv;

  beforeAll(async () => {
    registry = await startRegistry();
    seeded = await seedRegistry(registry);
    pullgate = await startPullgate({ env: { PULLGATE_UPSTREAM: registry.url } });
    dockerd = await startDockerd({ insecureRegistries: [pullgate.host] });
  });

  afterAll(async () => {
    await dockerd?.stop();
    await pullgate?.stop();
    await registry?.stop();
  });

  it('pulls the non-root image, so a refusal below is the policy and not a broken setup', async () => {
    const pulled = await dockerd.pull(`${pullgate.host}/${seeded.repo}:nonroot`);
    expect(pulled.digest).toBe(seeded.digests.nonroot);
  });

  it.each(REFUSED)('docker pull of $tag is refused, says why and stores nothing', async ({ tag, reason }) => {
    const ref = `${pullgate.host}/${seeded.repo}:${tag}`;
    const outcome = await dockerd.pull(ref).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(outcome).toBeInstanceOf(ClientCommandError);
    const err = outcome as ClientCommandError;
    console.log(`docker on a refusal of ${tag}: ${err.stderr.trim()}`);
    expect(err.stderr).toContain(reason);
    for (const text of [err.message, err.stderr]) {
      expect(text).not.toContain(PLANTED_AWS_SECRET);
      expect(text).not.toContain(PLANTED_NPM_TOKEN);
    }
    expect(await dockerd.docker(['images', '--format', '{{.Repository}}:{{.Tag}}'])).not.toContain(
      `${seeded.repo}:${tag}`,
    );
  });
});
