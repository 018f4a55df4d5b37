import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ContainerdEnv, startContainerd, writeHostsToml } from '../../helpers/clients/containerd.js';
import { skopeoCopy } from '../../helpers/clients/skopeo.js';
import { addIndex, pushImage } from '../../helpers/images.js';
import { type Pullgate, startPullgate } from '../../helpers/pullgate.js';
import { type Registry, startRegistry } from '../../helpers/registry.js';
import { buildVariants, daysAgo } from '../../helpers/rule-images.js';
import { makeTempDir, type TempDir } from '../../helpers/tmp.js';
import { failure } from '../refusal/refused-images.js';
import { decisionsFor, manifestWarning, policyDir } from './policy-dir.js';

// Issue 13 item 2: an image config `created` more than maxAgeDays ago is refused (audit: warned) saying when it
// was built and how old it is; per platform of an index; a zero/1970 `created` is "unknown", per the setting.
// Images built with umoci (`--created`), pushed to the real registry, pulled with real skopeo and ctr.
const TOKEN = 'image-age-token';
const OLD = '2020-01-01T00:00:00Z';
const TOO_OLD = /denied: image-age: built 2020-01-01, \d+ days ago; the limit is 365 days/;
const age = (mode: string, unknown: string) => ({ 'image-age': { mode, maxAgeDays: 365, unknown } });

describe('image-age: images built too long ago are refused with their build date', () => {
  let registry: Registry;
  let work: TempDir;
  let policies: TempDir;
  let pullgate: Pullgate;
  let containerd: ContainerdEnv;
  const d: Record<string, string> = {};

  beforeAll(async () => {
    work = await makeTempDir('image-age');
    let layout: string;
    [registry, layout] = await Promise.all([
      startRegistry(),
      buildVariants(work.path, {
        old: ['--created', OLD],
        new: ['--created', daysAgo(10)],
        epoch: ['--created', '1970-01-01T00:00:00Z'],
        'old-arm64': ['--created', OLD, '--architecture', 'arm64'],
      }),
    ]);
    await addIndex(layout, 'mixed', [
      { tag: 'new', architecture: 'amd64' },
      { tag: 'old-arm64', architecture: 'arm64' },
    ]);
    for (const tag of ['old', 'new', 'epoch', 'mixed'])
      d[tag] = await pushImage(layout, tag, registry, 'library/aged', tag);
    d.lenientEpoch = await pushImage(layout, 'epoch', registry, 'library/lenient', 'epoch');
    d.auditOld = await pushImage(layout, 'old', registry, 'library/audit-age', 'old');
    policies = await policyDir('image-age', [
      { name: 'strict-age', scope: { repositories: ['library/aged'] }, rules: age('enforce', 'deny') },
      { name: 'lenient-age', scope: { repositories: ['library/lenient'] }, rules: age('enforce', 'warn') },
      { name: 'audit-age', scope: { repositories: ['library/audit-age'] }, rules: age('audit', 'allow') },
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
    await work?.cleanup();
  });

  it('skopeo copy of an image built in 2020 is refused with its build date and age', async () => {
    const err = await failure(skopeoCopy(`${pullgate.host}/library/aged:old`), 'skopeo');
    expect(err.stderr).toMatch(TOO_OLD);
  });

  it('skopeo copy of an image built ten days ago is served', async () => {
    expect((await skopeoCopy(`${pullgate.host}/library/aged:new`)).manifestDigest).toBe(d.new);
  });

  it('ctr pull of the old image is refused with the same reason; the new one is served', async () => {
    const err = await failure(
      containerd.pull('docker.io/library/aged:old', { hostsDir: containerd.hostsDir }),
      'ctr',
    );
    expect(err.stderr).toMatch(/image-age: built 2020-01-01, \d+ days ago; the limit is 365 days/);
    const pulled = await containerd.pull('docker.io/library/aged:new', { hostsDir: containerd.hostsDir });
    expect(pulled.digest).toBe(d.new);
  });

  it('an index with one old platform is refused naming that platform', async () => {
    const err = await failure(skopeoCopy(`${pullgate.host}/library/aged:mixed`), 'skopeo');
    expect(err.stderr).toMatch(
      /image-age: built 2020-01-01, \d+ days ago; the limit is 365 days \[linux\/arm64\]/,
    );
  });

  it('a 1970 created time is unknown: refused under unknown: deny', async () => {
    const err = await failure(skopeoCopy(`${pullgate.host}/library/aged:epoch`), 'skopeo');
    expect(err.stderr).toContain(
      'denied: image-age: build time unknown: the image config created time is zero or 1970',
    );
  });

  it('a 1970 created time is unknown: served with a Warning under unknown: warn', async () => {
    expect((await skopeoCopy(`${pullgate.host}/library/lenient:epoch`)).manifestDigest).toBe(d.lenientEpoch);
    expect(await manifestWarning(pullgate.url, 'library/lenient', 'epoch')).toContain(
      'pullgate policy audit: image-age: build time unknown',
    );
  });

  it('in audit mode the old image is served with a Warning saying how old it is', async () => {
    expect((await skopeoCopy(`${pullgate.host}/library/audit-age:old`)).manifestDigest).toBe(d.auditOld);
    expect(await manifestWarning(pullgate.url, 'library/audit-age', 'old')).toMatch(
      /pullgate policy audit: image-age: built 2020-01-01, \d+ days ago/,
    );
  });

  it('the decision log holds the image-age findings, per platform for the index', async () => {
    const records = await decisionsFor(pullgate.url, TOKEN, 'image-age');
    const mixed = records.find((r) => r.reference === 'mixed');
    expect(mixed?.decision).toBe('deny');
    expect(mixed?.findings).toEqual([
      expect.objectContaining({ rule: 'image-age', mode: 'enforce', platform: 'linux/arm64' }),
    ]);
    expect(records.some((r) => r.reference === 'old' && r.decision === 'warn')).toBe(true);
  });
});
