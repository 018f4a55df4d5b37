import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { skopeoCopy } from '../../helpers/clients/skopeo.js';
import { pushImage } from '../../helpers/images.js';
import { type Pullgate, startPullgate } from '../../helpers/pullgate.js';
import { type Registry, startRegistry } from '../../helpers/registry.js';
import { baseAnnotations, buildVariants } from '../../helpers/rule-images.js';
import { makeTempDir, type TempDir } from '../../helpers/tmp.js';
import { manifestWarning, policyDir } from './policy-dir.js';

// Issue 13 item 3, the lookups: a base on another upstream is found through the router (its tag history is
// under that upstream), and with `checkUpstream: true` a base pullgate never saw is asked of its upstream with a
// HEAD — cached, so two images on one base cost one HEAD, and never a pull of the base (no GET, no blob).
describe('stale-base lookups: another upstream through the router, and the upstream HEAD', () => {
  let hub: Registry;
  let ghcr: Registry;
  let work: TempDir;
  let policies: TempDir;
  let pullgate: Pullgate;
  let baseLayout: string;
  let ghcrOld: string;
  let hubOld: string;
  let hubNew: string;

  beforeAll(async () => {
    work = await makeTempDir('stale-base-upstreams');
    [hub, ghcr, baseLayout] = await Promise.all([
      startRegistry(),
      startRegistry(),
      buildVariants(`${work.path}/base`, {
        one: ['--config.label', 'base=1'],
        two: ['--config.label', 'base=2'],
      }),
    ]);
    ghcrOld = await pushImage(baseLayout, 'one', ghcr, 'acme/base', '1');
    hubOld = await pushImage(baseLayout, 'one', hub, 'library/base', '1');
    const apps = await buildVariants(`${work.path}/apps`, {
      'on-ghcr': baseAnnotations('ghcr.io/acme/base:1', ghcrOld),
      'on-hub-old': baseAnnotations('docker.io/library/base:1', hubOld),
    });
    await pushImage(apps, 'on-ghcr', hub, 'library/app', '1');
    await pushImage(apps, 'on-hub-old', hub, 'library/checked', 'old');
    // The hub base moves before pullgate ever sees it: only the upstream can tell.
    hubNew = await pushImage(baseLayout, 'two', hub, 'library/base', '1');
    const onNew = await buildVariants(`${work.path}/apps-new`, {
      'on-hub-new': baseAnnotations('docker.io/library/base:1', hubNew),
    });
    await pushImage(onNew, 'on-hub-new', hub, 'library/checked', 'new');
    policies = await policyDir('stale-base-upstreams', [
      {
        name: 'history',
        scope: { repositories: ['library/app'] },
        rules: { 'stale-base': { mode: 'audit' } },
      },
      {
        name: 'ask-upstream',
        scope: { repositories: ['library/checked'] },
        rules: { 'stale-base': { mode: 'audit', checkUpstream: true } },
      },
    ]);
    pullgate = await startPullgate({
      env: {
        PULLGATE_UPSTREAM: hub.url,
        PULLGATE_UPSTREAMS: `ghcr.io=${ghcr.url}`,
        PULLGATE_POLICY_DIR: policies.path,
        PULLGATE_TAG_TTL: '0',
      },
    });
  });

  afterAll(async () => {
    await pullgate?.stop();
    await hub?.stop();
    await ghcr?.stop();
    await policies?.cleanup();
    await work?.cleanup();
  });

  it('a base on another upstream is looked up in that upstream’s tag history', async () => {
    expect((await skopeoCopy(`${pullgate.host}/ghcr.io/acme/base:1`)).manifestDigest).toBe(ghcrOld);
    expect(await manifestWarning(pullgate.url, 'library/app', '1')).toBe('');
    const ghcrNew = await pushImage(baseLayout, 'two', ghcr, 'acme/base', '1');
    expect((await skopeoCopy(`${pullgate.host}/ghcr.io/acme/base:1`)).manifestDigest).toBe(ghcrNew);
    expect(await manifestWarning(pullgate.url, 'library/app', '1')).toContain(
      `stale-base: built on ghcr.io/acme/base:1@${ghcrOld}; that tag now points to ${ghcrNew} (first seen`,
    );
  });

  it('with checkUpstream a base never pulled through pullgate is asked of its upstream', async () => {
    expect(await manifestWarning(pullgate.url, 'library/checked', 'old')).toContain(
      `stale-base: built on docker.io/library/base:1@${hubOld}; that tag now points to ${hubNew} (as the upstream answers now)`,
    );
    expect(await manifestWarning(pullgate.url, 'library/checked', 'new')).toBe('');
  });

  it('the upstream was asked with one HEAD for both images, and the base was never pulled', async () => {
    const byPullgate = (await hub.accessLog()).filter(
      (e) => e.path.startsWith('/v2/library/base/') && e.userAgent.startsWith('pullgate/'),
    );
    expect(byPullgate.map((e) => `${e.method} ${e.path}`)).toEqual(['HEAD /v2/library/base/manifests/1']);
  });
});
