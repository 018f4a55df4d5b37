import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ContainerdEnv, startContainerd, writeHostsToml } from '../../helpers/clients/containerd.js';
import { skopeoCopy } from '../../helpers/clients/skopeo.js';
import { pushImage } from '../../helpers/images.js';
import { type Pullgate, startPullgate } from '../../helpers/pullgate.js';
import { type Registry, startRegistry } from '../../helpers/registry.js';
import { baseAnnotations, buildVariants } from '../../helpers/rule-images.js';
import { makeTempDir, type TempDir } from '../../helpers/tmp.js';
import { failure } from '../refusal/refused-images.js';
import { decisionsFor, manifestWarning, policyDir } from './policy-dir.js';

// Issue 13 item 3: an image declaring its base (the OCI base.name / base.digest annotations, written here with
// umoci) is checked against pullgate's tag history of that base tag. The test moves the base tag on the real
// registry: the warning (audit) or refusal (enforce) appears only once pullgate has seen the tag move.
// PULLGATE_TAG_TTL=0 so a pull of the base through pullgate resolves it upstream.
const TOKEN = 'stale-base-token';
const BASE = 'docker.io/library/base:1';

describe('stale-base: images built on a base tag that has since moved', () => {
  let registry: Registry;
  let work: TempDir;
  let policies: TempDir;
  let pullgate: Pullgate;
  let containerd: ContainerdEnv;
  let baseLayout: string;
  let oldBase: string;
  let newBase: string;
  let app: string;

  beforeAll(async () => {
    work = await makeTempDir('stale-base');
    [registry, baseLayout] = await Promise.all([
      startRegistry(),
      buildVariants(`${work.path}/base`, {
        one: ['--config.label', 'base=1'],
        two: ['--config.label', 'base=2'],
      }),
    ]);
    oldBase = await pushImage(baseLayout, 'one', registry, 'library/base', '1');
    const appLayout = await buildVariants(`${work.path}/app`, { app: baseAnnotations(BASE, oldBase) });
    app = await pushImage(appLayout, 'app', registry, 'library/app', '1');
    await pushImage(appLayout, 'app', registry, 'library/strict-app', '1');
    policies = await policyDir('stale-base', [
      {
        name: 'bases-audit',
        scope: { repositories: ['library/app'] },
        rules: { 'stale-base': { mode: 'audit' } },
      },
      {
        name: 'bases-enforce',
        scope: { repositories: ['library/strict-app'] },
        rules: { 'stale-base': { mode: 'enforce' } },
      },
    ]);
    pullgate = await startPullgate({
      env: {
        PULLGATE_UPSTREAM: registry.url,
        PULLGATE_POLICY_DIR: policies.path,
        PULLGATE_ADMIN_TOKEN: TOKEN,
        PULLGATE_TAG_TTL: '0',
      },
    });
    containerd = await startContainerd();
    await writeHostsToml(containerd.hostsDir, 'docker.io', { url: pullgate.url });
    // pullgate learns the base tag the way it learns any tag: someone pulls it through pullgate.
    await skopeoCopy(`${pullgate.host}/library/base:1`);
  });

  afterAll(async () => {
    await containerd?.stop();
    await pullgate?.stop();
    await registry?.stop();
    await policies?.cleanup();
    await work?.cleanup();
  });

  it('an image built on what the base tag points to is served without a warning', async () => {
    expect((await skopeoCopy(`${pullgate.host}/library/app:1`)).manifestDigest).toBe(app);
    expect(await manifestWarning(pullgate.url, 'library/app', '1')).toBe('');
    expect((await skopeoCopy(`${pullgate.host}/library/strict-app:1`)).manifestDigest).toBe(app);
  });

  it('the base moving upstream changes nothing until pullgate sees the move', async () => {
    newBase = await pushImage(baseLayout, 'two', registry, 'library/base', '1');
    expect(newBase).not.toBe(oldBase);
    expect(await manifestWarning(pullgate.url, 'library/app', '1')).toBe('');
  });

  it('once the base tag has moved in the history, the image is served with a warning naming both digests', async () => {
    expect((await skopeoCopy(`${pullgate.host}/library/base:1`)).manifestDigest).toBe(newBase);
    expect((await skopeoCopy(`${pullgate.host}/library/app:1`)).manifestDigest).toBe(app);
    const warning = await manifestWarning(pullgate.url, 'library/app', '1');
    expect(warning).toMatch(
      new RegExp(
        `pullgate policy audit: stale-base: built on ${BASE}@${oldBase}; that tag now points to ${newBase} \\(first seen \\d{4}-\\d{2}-\\d{2} [\\d:]{8}Z\\)`,
      ),
    );
  });

  it('under enforce skopeo is refused with the same reason', async () => {
    const err = await failure(skopeoCopy(`${pullgate.host}/library/strict-app:1`), 'skopeo');
    expect(err.stderr).toContain(
      `denied: stale-base: built on ${BASE}@${oldBase}; that tag now points to ${newBase}`,
    );
  });

  it('under enforce ctr is refused and prints the reason', async () => {
    const err = await failure(
      containerd.pull('docker.io/library/strict-app:1', { hostsDir: containerd.hostsDir }),
      'ctr',
    );
    expect(err.stderr).toContain(
      `stale-base: built on ${BASE}@${oldBase}; that tag now points to ${newBase}`,
    );
  });

  it('the decision log holds the stale-base findings', async () => {
    const records = await decisionsFor(pullgate.url, TOKEN, 'stale-base');
    expect(records.some((r) => r.decision === 'warn' && r.findings.some((f) => f.mode === 'audit'))).toBe(
      true,
    );
    expect(
      records.some(
        (r) =>
          r.decision === 'deny' &&
          r.findings.some((f) => f.rule === 'stale-base' && f.message.includes(newBase)),
      ),
    ).toBe(true);
  });
});
