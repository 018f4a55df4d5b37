import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DockerdEnv, startDockerd } from '../../helpers/clients/dockerd.js';
import { skopeoCopy, skopeoInspect } from '../../helpers/clients/skopeo.js';
import { buildChangedImage, MEDIA_TYPE, pushImage, testImages } from '../../helpers/images.js';
import { run } from '../../helpers/proc.js';
import { type Pullgate, startPullgate } from '../../helpers/pullgate.js';
import { type Registry, startRegistry } from '../../helpers/registry.js';
import { makeTempDir, type TempDir } from '../../helpers/tmp.js';

// Issue 4 "Tests with real parts": a fully qualified tag (`1.0.0`, default action `pin`) is overwritten on the
// real registry by a skopeo push between pulls. The alert shows both digests and a diff (env by name only);
// skopeo and docker keep getting the old digest; a reviewer approves through the admin API and the tag moves.
// PULLGATE_TAG_TTL=0 so every pull resolves the tag upstream and the overwrite is noticed at once.
const TOKEN = 'acceptance-admin-token-5d1e';
const REPO = 'library/app';
const TAG = '1.0.0';
// The value of an env variable the new image adds: the alert may name the variable, never show this.
const ENV_VALUE = 'blue-deploy-value-3c9f';

interface AlertJson {
  id: number;
  repository: string;
  tag: string;
  status: string;
  action: string;
  old: { digest: string; firstSeen: string | null };
  new: { digest: string; firstSeen: string | null };
  diff?: unknown;
  decision?: unknown;
  reviews?: { action: string; reviewer: string; reason: string }[];
}

describe('a pinned version tag overwritten upstream keeps its digest until a reviewer approves', () => {
  let registry: Registry;
  let pullgate: Pullgate;
  let dockerd: DockerdEnv;
  let work: TempDir;
  let changedLayout: string;
  let oldDigest: string;
  let newDigest: string;
  let alertId: number;

  const admin = async (path: string, init: RequestInit = {}): Promise<{ status: number; body: unknown }> => {
    const res = await fetch(`${pullgate.url}/admin${path}`, {
      ...init,
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    });
    return { status: res.status, body: (await res.json()) as unknown };
  };

  /** The digest each client gets for REPO:TAG through pullgate; docker starts without the image each time. */
  async function pulledDigests(): Promise<{
    head: string | null;
    inspect: string;
    copy: string;
    docker: string;
  }> {
    const ref = `${pullgate.host}/${REPO}:${TAG}`;
    const res = await fetch(`${pullgate.url}/v2/${REPO}/manifests/${TAG}`, {
      method: 'HEAD',
      headers: { accept: MEDIA_TYPE.ociManifest },
    });
    await res.arrayBuffer();
    const inspect = (await skopeoInspect(ref)).Digest;
    const copy = (await skopeoCopy(ref)).manifestDigest;
    const docker = (await dockerd.pull(ref)).digest;
    await dockerd.docker(['image', 'rm', '--force', ref]);
    return { head: res.headers.get('docker-content-digest'), inspect, copy, docker };
  }

  beforeAll(async () => {
    work = await makeTempDir('tag-pin');
    // Image Y: the nonroot image with another user and an added variable.
    [registry, changedLayout] = await Promise.all([
      startRegistry(),
      buildChangedImage(work.path, ['--config.user', '2000:2000', '--config.env', `APP_MODE=${ENV_VALUE}`]),
    ]);
    pullgate = await startPullgate({
      env: { PULLGATE_UPSTREAM: registry.url, PULLGATE_TAG_TTL: '0', PULLGATE_ADMIN_TOKEN: TOKEN },
    });
    dockerd = await startDockerd({ insecureRegistries: [pullgate.host] });
  });

  afterAll(async () => {
    await dockerd?.stop();
    await pullgate?.stop();
    await registry?.stop();
    await work?.cleanup();
  });

  it('serves image X by tag to skopeo and docker, with no alert', async () => {
    const layout = await testImages();
    oldDigest = await pushImage(layout.dir, 'nonroot', registry, REPO, TAG);
    expect(await pulledDigests()).toEqual({
      head: oldDigest,
      inspect: oldDigest,
      copy: oldDigest,
      docker: oldDigest,
    });
    const { body } = await admin('/alerts');
    expect((body as { alerts: AlertJson[] }).alerts).toEqual([]);
  });

  it('opens one alert with both digests and an env diff by name when the tag is overwritten', async () => {
    newDigest = await pushImage(changedLayout, 'changed', registry, REPO, TAG);
    expect(newDigest).not.toBe(oldDigest);
    // One pull notices the move (TTL 0); the alert is opened before the answer.
    await skopeoInspect(`${pullgate.host}/${REPO}:${TAG}`);

    const list = await admin('/alerts?status=open');
    expect(list.status).toBe(200);
    const alerts = (list.body as { alerts: AlertJson[] }).alerts;
    expect(alerts).toHaveLength(1);
    const [summary] = alerts;
    expect(summary).toMatchObject({
      repository: REPO,
      tag: TAG,
      status: 'open',
      action: 'pin',
      old: { digest: oldDigest },
      new: { digest: newDigest },
    });
    alertId = summary?.id ?? 0;

    const shown = await admin(`/alerts/${alertId}`);
    expect(shown.status).toBe(200);
    const alert = shown.body as AlertJson;
    expect(alert.old.firstSeen).not.toBeNull();
    expect(alert.new.firstSeen).not.toBeNull();
    expect(alert.diff).toMatchObject({
      oldDigest,
      newDigest,
      platforms: [{ user: { from: '1000:1000', to: '2000:2000' }, env: { added: ['APP_MODE'] } }],
    });
    // The new image passes the policy, and the alert says so.
    expect(alert.decision).toMatchObject({ decision: 'allow' });
    expect(JSON.stringify(shown.body)).not.toContain(ENV_VALUE);
  });

  it('keeps serving the old digest to HEAD, skopeo and docker while the alert is open', async () => {
    expect(await pulledDigests()).toEqual({
      head: oldDigest,
      inspect: oldDigest,
      copy: oldDigest,
      docker: oldDigest,
    });
    // Pulls of a pinned tag do not open more alerts.
    const { body } = await admin('/alerts');
    expect((body as { alerts: AlertJson[] }).alerts.map((a) => a.id)).toEqual([alertId]);
  });

  it('lists the alert through the CLI (node src/cli.ts alerts list --json)', async () => {
    const out = await run(
      process.execPath,
      ['--import', 'tsx', 'src/cli.ts', 'alerts', 'list', '--json', '--server', pullgate.url],
      { env: { ...process.env, PULLGATE_ADMIN_TOKEN: TOKEN }, timeoutMs: 30_000 },
    );
    const page = JSON.parse(out.stdout) as { alerts: AlertJson[] };
    expect(page.alerts).toHaveLength(1);
    expect(page.alerts[0]).toMatchObject({
      id: alertId,
      status: 'open',
      old: { digest: oldDigest },
      new: { digest: newDigest },
    });
    expect(out.stdout).not.toContain(ENV_VALUE);
  });

  it('serves the new digest to HEAD, skopeo and docker once a reviewer approves', async () => {
    const approved = await admin(`/alerts/${alertId}/approve`, {
      method: 'POST',
      body: JSON.stringify({ reason: 'planned user change, release notes REL-7' }),
    });
    expect(approved.status).toBe(200);
    expect(approved.body).toMatchObject({
      id: alertId,
      status: 'approved',
      reviews: [
        { action: 'approve', reviewer: 'break-glass', reason: 'planned user change, release notes REL-7' },
      ],
    });
    expect(await pulledDigests()).toEqual({
      head: newDigest,
      inspect: newDigest,
      copy: newDigest,
      docker: newDigest,
    });
    const open = await admin('/alerts?status=open');
    expect((open.body as { alerts: AlertJson[] }).alerts).toEqual([]);
  });
});
