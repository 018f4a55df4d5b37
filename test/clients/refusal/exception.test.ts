import { copyFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DockerdEnv, startDockerd } from '../../helpers/clients/dockerd.js';
import { skopeoCopy, skopeoInspect } from '../../helpers/clients/skopeo.js';
import {
  PLANTED_AWS_SECRET,
  PLANTED_NPM_TOKEN,
  pushImage,
  type SeededImages,
  seedRegistry,
} from '../../helpers/images.js';
import { type Pullgate, startPullgate } from '../../helpers/pullgate.js';
import { type Registry, startRegistry } from '../../helpers/registry.js';
import { makeTempDir, type TempDir } from '../../helpers/tmp.js';
import { failure } from './refused-images.js';

// Issue 3 item 3: exceptions scoped to repositories and rules, each with a reason, an owner and an expiry. The
// shipped default policy stays in force (copied next to the exception); an unexpired exception for
// library/app waives all three rules there, so the images the default refuses are served unchanged. Controls:
// another repository is still refused, and an expired exception waives nothing and the refusal says so.
const EXCEPTIONS = `apiVersion: pullgate/v1
kind: Policy
name: app-exceptions
description: Reviewed exceptions for the acceptance tests.
exceptions:
  - rules: [run-as-root, secret-env, secret-history]
    repositories: [library/app]
    reason: test fixtures that plant findings on purpose; reviewed in TEST-1.
    owner: qa@pullgate.example
    expires: 2099-12-31
  - rules: [run-as-root]
    repositories: [other/expired]
    reason: a waiver that has run out.
    owner: qa@pullgate.example
    expires: 2020-01-01
`;

const WAIVED = ['root', 'secretenv', 'argleak'] as const;

describe('an exception for library/app lets the refused images through, unchanged', () => {
  let registry: Registry;
  let seeded: SeededImages;
  let policyDir: TempDir;
  let pullgate: Pullgate;
  let dockerd: DockerdEnv;

  beforeAll(async () => {
    registry = await startRegistry();
    seeded = await seedRegistry(registry);
    await pushImage(seeded.layout.dir, 'root', registry, 'other/app', 'root');
    await pushImage(seeded.layout.dir, 'root', registry, 'other/expired', 'root');
    policyDir = await makeTempDir('exception-policy');
    await copyFile(join(process.cwd(), 'policies', 'default.yaml'), join(policyDir.path, 'default.yaml'));
    await writeFile(join(policyDir.path, 'exceptions.yaml'), EXCEPTIONS);
    pullgate = await startPullgate({
      env: { PULLGATE_UPSTREAM: registry.url, PULLGATE_POLICY_DIR: policyDir.path },
    });
    dockerd = await startDockerd({ insecureRegistries: [pullgate.host] });
  });

  afterAll(async () => {
    await dockerd?.stop();
    await pullgate?.stop();
    await registry?.stop();
    await policyDir?.cleanup();
  });

  it.each(WAIVED)('skopeo copy and inspect of %s give the pushed digest', async (tag) => {
    const copied = await skopeoCopy(`${pullgate.host}/${seeded.repo}:${tag}`);
    expect(copied.manifestDigest).toBe(seeded.digests[tag]);
    const inspected = await skopeoInspect(`${pullgate.host}/${seeded.repo}:${tag}`);
    expect(inspected.Digest).toBe(seeded.digests[tag]);
  });

  it.each(WAIVED)('docker pull PULLGATE/library/app:%s gives the pushed digest', async (tag) => {
    const ref = `${pullgate.host}/${seeded.repo}:${tag}`;
    const pulled = await dockerd.pull(ref);
    expect(pulled.digest).toBe(seeded.digests[tag]);
    expect(pulled.repoDigests).toContain(`${pullgate.host}/${seeded.repo}@${seeded.digests[tag]}`);
    await dockerd.docker(['image', 'rm', '--force', ref]);
  });

  it('another repository is still refused by the default policy', async () => {
    const err = await failure(skopeoCopy(`${pullgate.host}/other/app:root`), 'the pull');
    expect(err.stderr).toContain('denied: run-as-root: image config has no USER');
    const docker = await failure(dockerd.pull(`${pullgate.host}/other/app:root`), 'the pull');
    expect(docker.stderr).toContain('denied: run-as-root: image config has no USER');
  });

  it('an expired exception waives nothing and the refusal names it', async () => {
    const err = await failure(skopeoCopy(`${pullgate.host}/other/expired:root`), 'the pull');
    expect(err.stderr).toContain('denied: run-as-root: image config has no USER');
    expect(err.stderr).toContain('exception app-exceptions#');
    expect(err.stderr).toContain('expired 2020-01-01');
    expect(err.stderr).not.toContain(PLANTED_AWS_SECRET);
    expect(err.stderr).not.toContain(PLANTED_NPM_TOKEN);
  });
});
