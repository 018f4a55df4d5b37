import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { skopeoCopy } from '../../helpers/clients/skopeo.js';
import { pushImage } from '../../helpers/images.js';
import { type Pullgate, startPullgate } from '../../helpers/pullgate.js';
import { type Registry, startRegistry } from '../../helpers/registry.js';
import { buildVariants } from '../../helpers/rule-images.js';
import { makeTempDir, type TempDir } from '../../helpers/tmp.js';
import { failure } from '../refusal/refused-images.js';
import { policyDir } from './policy-dir.js';

// Issue 13 item 1 with the tag-mutation pins: a pinned tag's refusal names the approved digest (and who approved
// it), and with `refuseRejected` a digest a reviewer rejected is refused by digest too. Version tags pin by
// default; PULLGATE_TAG_TTL=0 so every pull sees the registry's overwrite at once.
const TOKEN = 'require-digest-pins-token';
const REPO = 'library/app';

describe('require-digest with pinned tags and reviews', () => {
  let registry: Registry;
  let work: TempDir;
  let policies: TempDir;
  let pullgate: Pullgate;
  let layout: string;
  const digests: Record<string, string> = {};

  const admin = async (path: string, body?: unknown, token = TOKEN): Promise<unknown> => {
    const res = await fetch(`${pullgate.url}/admin${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    if (res.status !== 200 && res.status !== 201) throw new Error(`admin ${path} answered ${res.status}`);
    return res.json();
  };
  /** A reviewer's personal token: a review records the name the token belongs to (issue 12). */
  const reviewerToken = async (name: string): Promise<string> =>
    ((await admin('/tokens', { name, role: 'reviewer' })) as { token: string }).token;
  const openAlert = async (tag: string): Promise<number> => {
    const { alerts } = (await admin(`/alerts?status=open&tag=${tag}`)) as { alerts: { id: number }[] };
    const [alert] = alerts;
    if (alert === undefined) throw new Error(`no open alert for ${tag}`);
    return alert.id;
  };
  const refusal = async (ref: string): Promise<string> =>
    (await failure(skopeoCopy(`${pullgate.host}/${REPO}${ref}`), 'skopeo')).stderr;

  beforeAll(async () => {
    work = await makeTempDir('require-digest-pins');
    [registry, layout] = await Promise.all([
      startRegistry(),
      buildVariants(work.path, {
        x: ['--config.label', 'release=x'],
        y: ['--config.label', 'release=y'],
        z: ['--config.label', 'release=z'],
      }),
    ]);
    policies = await policyDir('require-digest-pins', [
      { name: 'pins', rules: { 'require-digest': { mode: 'enforce', refuseRejected: true } } },
    ]);
    pullgate = await startPullgate({
      env: {
        PULLGATE_UPSTREAM: registry.url,
        PULLGATE_POLICY_DIR: policies.path,
        PULLGATE_ADMIN_TOKEN: TOKEN,
        PULLGATE_TAG_TTL: '0',
      },
    });
    for (const v of ['x', 'y', 'z']) digests[v] = await pushImage(layout, v, registry, REPO, `only-${v}`);
  });

  afterAll(async () => {
    await pullgate?.stop();
    await registry?.stop();
    await policies?.cleanup();
    await work?.cleanup();
  });

  it('a pinned tag moved upstream is refused naming the approved digest and the one waiting upstream', async () => {
    await pushImage(layout, 'x', registry, REPO, '1.25.3');
    const first = await refusal(':1.25.3');
    expect(first).toMatch(
      new RegExp(
        `require-digest: pull ${REPO}@${digests.x} instead of :1\\.25\\.3 \\(approved \\d{4}-\\d{2}-\\d{2}\\)`,
      ),
    );
    await pushImage(layout, 'y', registry, REPO, '1.25.3');
    const pinned = await refusal(':1.25.3');
    expect(pinned).toContain(`pull ${REPO}@${digests.x} instead of :1.25.3`);
    expect(pinned).toContain(`the tag is pinned: upstream it now points to ${digests.y}, not approved`);
  });

  it('with refuseRejected a digest rejected in review is refused by digest, naming the approved one', async () => {
    expect((await skopeoCopy(`${pullgate.host}/${REPO}@${digests.y}`)).manifestDigest).toBe(digests.y);
    await admin(
      `/alerts/${await openAlert('1.25.3')}/reject`,
      { reason: 'unplanned rebuild' },
      await reviewerToken('bob'),
    );
    const err = await refusal(`@${digests.y}`);
    expect(err).toMatch(
      new RegExp(
        `denied: require-digest: ${digests.y} was rejected in review for :1\\.25\\.3 \\(\\d{4}-\\d{2}-\\d{2} by bob\\); pull ${REPO}@${digests.x} instead`,
      ),
    );
    expect((await skopeoCopy(`${pullgate.host}/${REPO}@${digests.x}`)).manifestDigest).toBe(digests.x);
  });

  it('after a reviewer approves a move, the refusal names the new digest and who approved it', async () => {
    await pushImage(layout, 'x', registry, REPO, '2.0.0');
    await refusal(':2.0.0');
    await pushImage(layout, 'z', registry, REPO, '2.0.0');
    await refusal(':2.0.0');
    await admin(
      `/alerts/${await openAlert('2.0.0')}/approve`,
      { reason: 'release 2.0.0' },
      await reviewerToken('alice'),
    );
    expect(await refusal(':2.0.0')).toMatch(
      new RegExp(
        `pull ${REPO}@${digests.z} instead of :2\\.0\\.0 \\(approved \\d{4}-\\d{2}-\\d{2} by alice\\)`,
      ),
    );
  });
});
