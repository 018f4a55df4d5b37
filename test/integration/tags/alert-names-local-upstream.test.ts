import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAlerts, runTags } from '../../../src/cli/alerts.js';
import { renderPayload } from '../../../src/notify/payload.js';
import type { AlertView } from '../../../src/tags/alert-view.js';
import { pushImage, testImages } from '../../helpers/images.js';
import { type Pullgate, startPullgate } from '../../helpers/pullgate.js';
import { type Registry, startRegistry } from '../../helpers/registry.js';

// A tag overwritten on a local registry used as the default upstream: the alert names that registry by its
// host, not docker.io (issue 17, "Names"); filters keep using the upstream key.
const token = 'alert-names-token';
let upstream: Registry;
let pullgate: Pullgate;
let alert: AlertView;

const admin = async (path: string) => {
  const res = await fetch(`${pullgate.url}/admin/${path}`, { headers: { authorization: `Bearer ${token}` } });
  expect(res.status).toBe(200);
  return res.json();
};

beforeAll(async () => {
  upstream = await startRegistry();
  const layout = await testImages();
  await pushImage(layout.dir, 'nonroot', upstream, 'library/app', '1.0.0');
  pullgate = await startPullgate({
    env: { PULLGATE_UPSTREAM: upstream.url, PULLGATE_TAG_TTL: '0', PULLGATE_ADMIN_TOKEN: token },
  });
  const pull = async () => (await fetch(`${pullgate.url}/v2/library/app/manifests/1.0.0`)).arrayBuffer();
  await pull();
  await pushImage(layout.dir, 'nonroot-arm64', upstream, 'library/app', '1.0.0');
  await pull();
  const list = (await admin('alerts?upstream=docker.io')) as { alerts: { id: number }[] };
  expect(list.alerts).toHaveLength(1);
  alert = (await admin(`alerts/${list.alerts[0]?.id}`)) as AlertView;
});
afterAll(async () => {
  await pullgate?.stop();
  await upstream?.stop();
});

describe('an alert on a local default upstream', () => {
  it('names the registry by its host in the admin API', () => {
    expect(alert).toMatchObject({ upstream: 'docker.io', registry: upstream.host, tag: '1.0.0' });
  });

  it('names it so in `pullgate alerts show` and in the Slack message', async () => {
    let out = '';
    const io = { out: (t: string) => (out += t), err: () => undefined, env: { PULLGATE_ADMIN_TOKEN: token } };
    expect(await runAlerts(['show', String(alert.id), '--server', pullgate.url], io)).toBe(0);
    expect(out).toContain(`tag       ${upstream.host}/library/app:1.0.0`);
    const slack = renderPayload('slack', 'alert.opened', 'd-1', alert) as { text: string };
    expect(slack.text).toContain(`on ${upstream.host} changed`);
    expect(slack.text).not.toContain('docker.io');
  });

  it('names it so in `pullgate tags history`', async () => {
    let out = '';
    const io = { out: (t: string) => (out += t), err: () => undefined, env: { PULLGATE_ADMIN_TOKEN: token } };
    expect(await runTags(['history', 'library/app:1.0.0', '--server', pullgate.url], io)).toBe(0);
    expect(out.split('\n')[0]).toBe(`${upstream.host}/library/app:1.0.0`);
  });

  it('is counted in /metrics as one open alert of its severity', async () => {
    const text = await (await fetch(`${pullgate.url}/metrics`)).text();
    expect(text).toContain(`pullgate_alerts_open{severity="${alert.severity}"} 1`);
  });
});
