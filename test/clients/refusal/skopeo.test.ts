import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { skopeoCopy, skopeoInspect } from '../../helpers/clients/skopeo.js';
import {
  PLANTED_AWS_SECRET,
  PLANTED_NPM_TOKEN,
  type SeededImages,
  seedRegistry,
} from '../../helpers/images.js';
import { type Pullgate, startPullgate } from '../../helpers/pullgate.js';
import { type Registry, startRegistry } from '../../helpers/registry.js';
import { failure, REFUSED } from './refused-images.js';

// Issue 3 "refusal a client sees": with the shipped policies (policies/default.yaml enforces run-as-root,
// secret-env and secret-history), skopeo is refused with a message naming the rule and the variable, and the
// planted secret value appears nowhere in what skopeo prints. skopeo sends GET manifests/<tag>, so the 403
// DENIED body is what it shows as `denied: <message>` (DESIGN.md, "What real clients do").
function expectNoPlantedSecret(text: string): void {
  expect(text).not.toContain(PLANTED_AWS_SECRET);
  expect(text).not.toContain(PLANTED_NPM_TOKEN);
}

describe('skopeo is refused by the default policies with a readable reason', () => {
  let registry: Registry;
  let seeded: SeededImages;
  let pullgate: Pullgate;

  beforeAll(async () => {
    registry = await startRegistry();
    seeded = await seedRegistry(registry);
    pullgate = await startPullgate({ env: { PULLGATE_UPSTREAM: registry.url } });
    expect(pullgate.config.policyEnabled).toBe(true);
  });

  afterAll(async () => {
    await pullgate?.stop();
    await registry?.stop();
  });

  it('serves the non-root image, so a refusal below is the policy and not a broken proxy', async () => {
    const copied = await skopeoCopy(`${pullgate.host}/${seeded.repo}:nonroot`);
    expect(copied.manifestDigest).toBe(seeded.digests.nonroot);
  });

  it.each(REFUSED)('skopeo copy of $tag is refused and says why', async ({ tag, reason }) => {
    const err = await failure(skopeoCopy(`${pullgate.host}/${seeded.repo}:${tag}`), 'skopeo');
    expect(err.stderr).toContain(reason);
    expectNoPlantedSecret(err.message);
    expectNoPlantedSecret(err.stderr);
  });

  it.each(REFUSED)('skopeo inspect -n of $tag is refused and says why', async ({ tag, reason }) => {
    const err = await failure(skopeoInspect(`${pullgate.host}/${seeded.repo}:${tag}`), 'skopeo');
    expect(err.stderr).toContain(reason);
    expectNoPlantedSecret(err.stderr);
  });

  it.each(REFUSED)('a pull of $tag by digest is refused too', async ({ tag, reason }) => {
    const err = await failure(skopeoCopy(`${pullgate.host}/${seeded.repo}@${seeded.digests[tag]}`), 'skopeo');
    expect(err.stderr).toContain(reason);
    expectNoPlantedSecret(err.stderr);
  });
});
