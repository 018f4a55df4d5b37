import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRecords } from '../../../src/audit/query.js';
import { buildChangedImage, MEDIA_TYPE, pushImage, testImages } from '../../helpers/images.js';
import { type Pullgate, startPullgate } from '../../helpers/pullgate.js';
import { type Registry, startRegistry } from '../../helpers/registry.js';
import { makeTempDir, type TempDir } from '../../helpers/tmp.js';

const TOKEN = 'reopen-admin-token-6a1f';
const REPO = 'library/api';

describe('pinned answers warn, and a review can be reopened', () => {
  let registry: Registry;
  let pullgate: Pullgate;
  let work: TempDir;
  let changed: string;

  beforeAll(async () => {
    work = await makeTempDir('reopen');
    [registry, changed] = await Promise.all([
      startRegistry(),
      buildChangedImage(work.path, ['--config.label', 'build=2']),
    ]);
    pullgate = await startPullgate({
      env: { PULLGATE_UPSTREAM: registry.url, PULLGATE_TAG_TTL: '0', PULLGATE_ADMIN_TOKEN: TOKEN },
    });
  });
  afterAll(async () => {
    await pullgate?.stop();
    await registry?.stop();
    await work?.cleanup();
  });

  const get = async (tag: string) => {
    const res = await fetch(`${pullgate.url}/v2/${REPO}/manifests/${tag}`, {
      headers: { accept: MEDIA_TYPE.ociManifest },
    });
    await res.arrayBuffer();
    return { digest: res.headers.get('docker-content-digest'), warning: res.headers.get('warning') };
  };
  const admin = async (path: string, body?: unknown) => {
    const res = await fetch(`${pullgate.url}/admin${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return {
      status: res.status,
      body: (await res.json()) as { id: number; status: string; alerts?: { id: number; tag: string }[] },
    };
  };
  /** Pulls the tag, overwrites it upstream, pulls again: the alert is open and the tag pinned. */
  const overwrite = async (tag: string) => {
    const layout = await testImages();
    const oldDigest = await pushImage(layout.dir, 'nonroot', registry, REPO, tag);
    expect((await get(tag)).digest).toBe(oldDigest);
    const newDigest = await pushImage(changed, 'changed', registry, REPO, tag);
    const pinned = await get(tag);
    const list = await admin(`/alerts?tag=${tag}`);
    const id = list.body.alerts?.[0]?.id;
    if (id === undefined) throw new Error('no alert opened');
    return { oldDigest, newDigest, pinned, id };
  };

  it('answers a pinned tag with Warning 299 naming the digest that awaits review', async () => {
    const { oldDigest, newDigest, pinned, id } = await overwrite('1.4.0');
    expect(pinned.digest).toBe(oldDigest);
    expect(pinned.warning).toMatch(/^299 - ".*awaits review/);
    expect(pinned.warning).toContain(newDigest);
    expect(pinned.warning).toContain(`alert ${id}`);
    await admin(`/alerts/${id}/reject`, { reason: 'not ours' });
    // Rejected: still pinned, but nothing awaits review any more.
    expect(await get('1.4.0')).toEqual({ digest: oldDigest, warning: null });
  });

  it('reopening an approval pins the tag to the old digest again and is in the decision log', async () => {
    const { oldDigest, newDigest, id } = await overwrite('1.5.0');
    expect((await admin(`/alerts/${id}/approve`, { reason: 'looks fine' })).status).toBe(200);
    expect((await get('1.5.0')).digest).toBe(newDigest);
    const reopened = await admin(`/alerts/${id}/reopen`, { reason: 'approved the wrong alert' });
    expect(reopened.status).toBe(200);
    expect(reopened.body.status).toBe('open');
    expect((await get('1.5.0')).digest).toBe(oldDigest);
    const log = await queryRecords(join(pullgate.dataDir, 'audit'), { types: ['review'] });
    expect(log.records).toContainEqual(
      expect.objectContaining({
        action: 'reopen',
        actor: 'break-glass',
        auth: 'admin-token',
        alertId: String(id),
      }),
    );
  });

  it('refuses to reopen an open alert', async () => {
    const { id } = await overwrite('1.6.0');
    const res = await admin(`/alerts/${id}/reopen`, { reason: 'nothing to undo' });
    expect(res.status).toBe(409);
  });
});
