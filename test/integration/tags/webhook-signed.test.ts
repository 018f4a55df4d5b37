import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildChangedImage, MEDIA_TYPE, pushImage, testImages } from '../../helpers/images.js';
import { getFreePort } from '../../helpers/ports.js';
import { waitUntil } from '../../helpers/proc.js';
import { type Pullgate, startPullgate } from '../../helpers/pullgate.js';
import { type Registry, startRegistry } from '../../helpers/registry.js';
import { makeTempDir, type TempDir } from '../../helpers/tmp.js';

const TOKEN = 'webhook-admin-token-0c4d';
const SECRET = `whsec_${randomBytes(24).toString('base64')}`;
const PUBLIC_URL = 'https://pullgate.example.test';
const REPO = 'library/queue';

interface Delivery {
  headers: IncomingHttpHeaders;
  body: string;
}

describe('webhooks signed per Standard Webhooks, with the console link', () => {
  let registry: Registry;
  let pullgate: Pullgate;
  let receiver: Server;
  let work: TempDir;
  const deliveries: Delivery[] = [];

  beforeAll(async () => {
    work = await makeTempDir('webhook-signed');
    const port = await getFreePort();
    const deadPort = await getFreePort();
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        deliveries.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(port, '127.0.0.1', resolve));
    registry = await startRegistry();
    pullgate = await startPullgate({
      env: {
        PULLGATE_UPSTREAM: registry.url,
        PULLGATE_TAG_TTL: '0',
        PULLGATE_ADMIN_TOKEN: TOKEN,
        PULLGATE_PUBLIC_URL: PUBLIC_URL,
        HOOK_SECRET: SECRET,
        PULLGATE_WEBHOOKS: JSON.stringify([
          { url: `http://127.0.0.1:${port}/hook`, format: 'json', secretEnv: 'HOOK_SECRET' },
          // Nobody listens here: every attempt fails, is logged and counted.
          { url: `http://127.0.0.1:${deadPort}/hook`, format: 'slack' },
        ]),
      },
    });
  });
  afterAll(async () => {
    await pullgate?.stop();
    await new Promise((r) => receiver?.close(r));
    await registry?.stop();
    await work?.cleanup();
  });

  const events = () =>
    deliveries.map(
      (d) => JSON.parse(d.body) as { event: string; consoleUrl?: string; alert: { id: number } },
    );

  it('signs alert.opened and alert.approved so that the receiver verifies them, and links the console', async () => {
    const layout = await testImages();
    const changed = await buildChangedImage(work.path, ['--config.label', 'rev=2']);
    await pushImage(layout.dir, 'nonroot', registry, REPO, '5.0.1');
    const get = () =>
      fetch(`${pullgate.url}/v2/${REPO}/manifests/5.0.1`, {
        headers: { accept: MEDIA_TYPE.ociManifest },
      }).then((r) => r.arrayBuffer());
    await get();
    await pushImage(changed, 'changed', registry, REPO, '5.0.1');
    await get();
    await waitUntil(() => events().some((e) => e.event === 'alert.opened'), { timeoutMs: 20_000 });
    const opened = events().find((e) => e.event === 'alert.opened');
    const id = opened?.alert.id;
    expect(opened?.consoleUrl).toBe(`${PUBLIC_URL}/ui/alerts/${id}`);

    const res = await fetch(`${pullgate.url}/admin/alerts/${id}/approve`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ reason: 'expected label bump' }),
    });
    expect(res.status).toBe(200);
    await waitUntil(() => events().some((e) => e.event === 'alert.approved'), { timeoutMs: 20_000 });

    const hook = new Webhook(SECRET);
    for (const d of deliveries) {
      expect(d.headers['webhook-id']).toMatch(/^pullgate-\d+$/);
      expect(() => hook.verify(d.body, d.headers as Record<string, string>)).not.toThrow();
      // A body changed on the way fails verification.
      expect(() =>
        hook.verify(d.body.replace('"event"', '"Event"'), d.headers as Record<string, string>),
      ).toThrow();
    }
  });

  it('counts failed deliveries in /metrics', async () => {
    await waitUntil(
      async () => {
        const text = await (await fetch(`${pullgate.url}/metrics`)).text();
        return /pullgate_webhook_delivery_failures_total\{event="alert\.opened"\} [1-9]/.test(text);
      },
      { timeoutMs: 20_000 },
    );
  });
});
