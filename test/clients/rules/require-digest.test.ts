import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ContainerdEnv, startContainerd, writeHostsToml } from '../../helpers/clients/containerd.js';
import { skopeoCopy } from '../../helpers/clients/skopeo.js';
import { pushImage, type SeededImages, seedRegistry } from '../../helpers/images.js';
import { type Pullgate, startPullgate } from '../../helpers/pullgate.js';
import { type Registry, startRegistry } from '../../helpers/registry.js';
import type { TempDir } from '../../helpers/tmp.js';
import { failure } from '../refusal/refused-images.js';
import { decisionsFor, manifestWarning, policyDir } from './policy-dir.js';

// Issue 13 item 1: in a scope, a pull by tag is refused (audit: warned) with the digest to pull instead, and a
// pull by digest is served; real skopeo and ctr through pullgate, images pushed to the real registry.
const TOKEN = 'require-digest-admin-token';

describe('require-digest: pulls by tag refused with the digest to pull, pulls by digest served', () => {
  let registry: Registry;
  let seeded: SeededImages;
  let policies: TempDir;
  let pullgate: Pullgate;
  let containerd: ContainerdEnv;
  let audited: string;

  beforeAll(async () => {
    registry = await startRegistry();
    seeded = await seedRegistry(registry);
    audited = await pushImage(seeded.layout.dir, 'nonroot', registry, 'library/audited', 'nonroot');
    await pushImage(seeded.layout.dir, 'nonroot', registry, 'library/free', 'nonroot');
    policies = await policyDir('require-digest', [
      {
        name: 'production-pins',
        scope: { repositories: ['library/app'] },
        rules: { 'require-digest': { mode: 'enforce' } },
      },
      {
        name: 'rollout',
        scope: { repositories: ['library/audited'] },
        rules: { 'require-digest': { mode: 'audit' } },
      },
    ]);
    pullgate = await startPullgate({
      env: {
        PULLGATE_UPSTREAM: registry.url,
        PULLGATE_POLICY_DIR: policies.path,
        PULLGATE_ADMIN_TOKEN: TOKEN,
      },
    });
    containerd = await startContainerd();
    await writeHostsToml(containerd.hostsDir, 'docker.io', { url: pullgate.url });
  });

  afterAll(async () => {
    await containerd?.stop();
    await pullgate?.stop();
    await registry?.stop();
    await policies?.cleanup();
  });

  it('skopeo copy by tag is refused, naming the digest to pull instead', async () => {
    const err = await failure(skopeoCopy(`${pullgate.host}/library/app:nonroot`), 'skopeo');
    expect(err.stderr).toContain(
      `denied: require-digest: pull library/app@${seeded.digests.nonroot} instead of :nonroot`,
    );
  });

  it('skopeo copy by the digest the refusal names is served', async () => {
    const copied = await skopeoCopy(`${pullgate.host}/library/app@${seeded.digests.nonroot}`);
    expect(copied.manifestDigest).toBe(seeded.digests.nonroot);
  });

  it('a tag of an index is refused naming the index digest; a platform manifest by digest is served', async () => {
    const err = await failure(skopeoCopy(`${pullgate.host}/library/app:oci-index`), 'skopeo');
    expect(err.stderr).toContain(`pull library/app@${seeded.digests['oci-index']} instead of :oci-index`);
    const amd64 = seeded.children['oci-index'].amd64;
    expect((await skopeoCopy(`${pullgate.host}/library/app@${amd64}`)).manifestDigest).toBe(amd64);
    expect(
      (await skopeoCopy(`${pullgate.host}/library/app@${seeded.digests['oci-index']}`)).manifestDigest,
    ).toBe(amd64);
  });

  it('ctr pull by tag is refused and prints the digest to pull instead', async () => {
    const err = await failure(
      containerd.pull('docker.io/library/app:nonroot', { hostsDir: containerd.hostsDir }),
      'ctr',
    );
    expect(err.stderr).toContain(
      `require-digest: pull library/app@${seeded.digests.nonroot} instead of :nonroot`,
    );
    expect(await containerd.ctr(['images', 'ls', '-q'])).not.toContain('docker.io/library/app:nonroot');
  });

  it('ctr pull of an index tag is refused too, naming the index digest', async () => {
    const err = await failure(
      containerd.pull('docker.io/library/app:oci-index', { hostsDir: containerd.hostsDir }),
      'ctr',
    );
    expect(err.stderr).toContain(`pull library/app@${seeded.digests['oci-index']} instead of :oci-index`);
  });

  it('ctr pull by digest is served', async () => {
    const ref = `docker.io/library/app@${seeded.digests.nonroot}`;
    const pulled = await containerd.pull(ref, { hostsDir: containerd.hostsDir });
    expect(pulled.digest).toBe(seeded.digests.nonroot);
  });

  it('a repository outside the scope is served by tag', async () => {
    expect((await skopeoCopy(`${pullgate.host}/library/free:nonroot`)).manifestDigest).toBe(
      seeded.digests.nonroot,
    );
  });

  it('in audit mode a pull by tag is served with a Warning naming the digest', async () => {
    expect((await skopeoCopy(`${pullgate.host}/library/audited:nonroot`)).manifestDigest).toBe(audited);
    const warning = await manifestWarning(pullgate.url, 'library/audited', 'nonroot');
    expect(warning).toContain(
      `pullgate policy audit: require-digest: pull library/audited@${audited} instead of :nonroot`,
    );
  });

  it('the decision log holds the refusals and the warning with their require-digest findings', async () => {
    const records = await decisionsFor(pullgate.url, TOKEN, 'require-digest');
    const refused = records.find((r) => r.reference === 'nonroot' && r.decision === 'deny');
    expect(refused?.findings).toContainEqual(
      expect.objectContaining({
        rule: 'require-digest',
        mode: 'enforce',
        message: expect.stringContaining('instead of :nonroot'),
      }),
    );
    expect(records.some((r) => r.decision === 'warn' && r.findings.some((f) => f.mode === 'audit'))).toBe(
      true,
    );
    // Pulls by digest carry no require-digest finding.
    expect(records.some((r) => r.reference.startsWith('sha256:') && r.decision !== 'deny')).toBe(false);
  });
});
