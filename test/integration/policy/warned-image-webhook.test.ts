import { writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { PLANTED_AWS_SECRET, seedRegistry } from '../../helpers/images.js';
import { waitUntil } from '../../helpers/proc.js';
import { type Pullgate, startPullgate } from '../../helpers/pullgate.js';
import { type Registry, startRegistry } from '../../helpers/registry.js';
import { makeTempDir, type TempDir } from '../../helpers/tmp.js';

// Audit mode serves and clients print nothing, so the team hears of warned images by webhook: one `image.warned`
// event per image (and policy version), however often it is pulled (issue 17).
interface Received {
  event: string | undefined;
  text: string;
}

let upstream: Registry;
let policies: TempDir;
let pullgate: Pullgate;
let receiver: Server;
const received: Received[] = [];
// The receivers also get other events (log.checkpoint): only image.warned is looked at here.
const warned = () => received.filter((r) => r.event === 'image.warned');

beforeAll(async () => {
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const event = req.headers['x-pullgate-event'];
      received.push({
        event: Array.isArray(event) ? event[0] : event,
        text: Buffer.concat(chunks).toString(),
      });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const hook = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  upstream = await startRegistry();
  await seedRegistry(upstream);
  policies = await makeTempDir('warned-policies');
  await writeFile(
    join(policies.path, 'audit.yaml'),
    stringify({
      apiVersion: 'pullgate/v1',
      kind: 'Policy',
      name: 'rollout',
      rules: { 'run-as-root': { mode: 'audit' }, 'secret-env': { mode: 'audit' } },
    }),
  );
  pullgate = await startPullgate({
    env: {
      PULLGATE_UPSTREAM: upstream.url,
      PULLGATE_POLICY_DIR: policies.path,
      PULLGATE_WEBHOOKS: JSON.stringify([{ url: hook, format: 'json' }]),
    },
  });
  for (const tag of ['root', 'root', 'secretenv', 'nonroot', 'root']) {
    const res = await fetch(`${pullgate.url}/v2/library/app/manifests/${tag}`);
    expect(res.status).toBe(200);
    await res.arrayBuffer();
  }
  await waitUntil(() => warned().length >= 2, { timeoutMs: 20_000 });
});
afterAll(async () => {
  await pullgate?.stop();
  await upstream?.stop();
  await policies?.cleanup();
  receiver?.closeAllConnections();
  await new Promise((r) => receiver?.close(r));
});

describe('the image.warned webhook', () => {
  it('is sent once per warned image, naming its rules and variables, never their values', async () => {
    // Let a duplicate, if one were coming, arrive.
    await new Promise((r) => setTimeout(r, 1500));
    expect(warned()).toHaveLength(2);
    const images = warned().map(
      (r) =>
        (JSON.parse(r.text) as { image: { reference: string; registry: string; findings: unknown[] } }).image,
    );
    expect(images.map((i) => i.reference).sort()).toEqual(['root', 'secretenv']);
    expect(images.every((i) => i.registry === upstream.host)).toBe(true);
    expect(images.find((i) => i.reference === 'secretenv')?.findings).toContainEqual({
      rule: 'secret-env',
      key: 'AWS_SECRET_ACCESS_KEY',
    });
    for (const r of received) expect(r.text).not.toContain(PLANTED_AWS_SECRET);
  });

  it('counts the deliveries in /metrics, none failed', async () => {
    const metrics = await (await fetch(`${pullgate.url}/metrics`)).text();
    const delivered = /pullgate_webhook_deliveries_total\{outcome="delivered"\} (\d+)/.exec(metrics)?.[1];
    expect(Number(delivered)).toBeGreaterThanOrEqual(2);
    expect(metrics).not.toContain('pullgate_webhook_deliveries_total{outcome="failed"}');
  });
});
