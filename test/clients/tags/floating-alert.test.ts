import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PodmanEnv, startPodmanEnv } from '../../helpers/clients/podman.js';
import { skopeoCopy, skopeoInspect } from '../../helpers/clients/skopeo.js';
import { buildChangedImage, pushImage, testImages } from '../../helpers/images.js';
import { type Pullgate, startPullgate } from '../../helpers/pullgate.js';
import { type Registry, startRegistry } from '../../helpers/registry.js';
import { makeTempDir, type TempDir } from '../../helpers/tmp.js';

// Issue 4 item 4: a floating tag (`latest`) moves by design, so its default action is `alert`: the new digest
// is served at once and an alert (low severity) records the move for review. PULLGATE_TAG_TTL=0 so the move is
// noticed on the next pull.
const TOKEN = 'acceptance-admin-token-a77b';
const REPO = 'library/app';

interface AlertJson {
  id: number;
  tag: string;
  status: string;
  action: string;
  severity: string;
  old: { digest: string };
  new: { digest: string };
}

describe('a floating tag that moves upstream is served at its new digest and raises an alert', () => {
  let registry: Registry;
  let pullgate: Pullgate;
  let podman: PodmanEnv;
  let work: TempDir;
  let changedLayout: string;

  async function alerts(): Promise<AlertJson[]> {
    const res = await fetch(`${pullgate.url}/admin/alerts`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(res.status).toBe(200);
    return ((await res.json()) as { alerts: AlertJson[] }).alerts;
  }

  beforeAll(async () => {
    work = await makeTempDir('tag-floating');
    // Image Y: the nonroot image with an added label.
    [registry, changedLayout] = await Promise.all([
      startRegistry(),
      buildChangedImage(work.path, ['--config.label', 'org.opencontainers.image.version=2']),
    ]);
    pullgate = await startPullgate({
      env: { PULLGATE_UPSTREAM: registry.url, PULLGATE_TAG_TTL: '0', PULLGATE_ADMIN_TOKEN: TOKEN },
    });
    podman = await startPodmanEnv({ registryHost: pullgate.host, mode: 'rewrite' });
  });

  afterAll(async () => {
    await podman?.stop();
    await pullgate?.stop();
    await registry?.stop();
    await work?.cleanup();
  });

  it('follows latest to the new digest for skopeo and podman, with one open alert', async () => {
    const layout = await testImages();
    const oldDigest = await pushImage(layout.dir, 'nonroot', registry, REPO, 'latest');
    expect((await skopeoInspect(`${pullgate.host}/${REPO}:latest`)).Digest).toBe(oldDigest);
    expect(await alerts()).toEqual([]);

    const newDigest = await pushImage(changedLayout, 'changed', registry, REPO, 'latest');
    expect(newDigest).not.toBe(oldDigest);
    expect((await skopeoInspect(`${pullgate.host}/${REPO}:latest`)).Digest).toBe(newDigest);
    expect((await skopeoCopy(`${pullgate.host}/${REPO}:latest`)).manifestDigest).toBe(newDigest);
    expect((await podman.pull(`docker.io/${REPO}:latest`)).digest).toBe(newDigest);

    const open = await alerts();
    expect(open).toHaveLength(1);
    expect(open[0]).toMatchObject({
      tag: 'latest',
      status: 'open',
      action: 'alert',
      severity: 'low',
      old: { digest: oldDigest },
      new: { digest: newDigest },
    });
  });
});
