import { createPublicKey } from 'node:crypto';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCheckpoint } from '../../../src/audit/checkpoint.js';
import { seedRegistry } from '../../helpers/images.js';
import { waitUntil } from '../../helpers/proc.js';
import { type Pullgate, startPullgate } from '../../helpers/pullgate.js';
import { type Registry, startRegistry } from '../../helpers/registry.js';
import { makeTempDir, type TempDir } from '../../helpers/tmp.js';
import { type KeyFiles, logVerify, ORIGIN, writeKeyFiles } from './checkpoint-setup.js';

// A real HTTP receiver on loopback stands in for the SIEM that keeps a copy of the checkpoints off the machine.
interface Received {
  event: string | undefined;
  idempotencyKey: string | undefined;
  body: { event?: string; checkpoint?: { origin: string; size: number; note: string; signed: boolean } };
}

let upstream: Registry | undefined;
let pullgate: Pullgate | undefined;
let receiver: Server | undefined;
let tmp: TempDir;
let keys: KeyFiles;
const received: Received[] = [];

beforeAll(async () => {
  tmp = await makeTempDir('checkpoint-webhook');
  keys = await writeKeyFiles(tmp.path);
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const header = (name: string) => {
        const v = req.headers[name];
        return Array.isArray(v) ? v[0] : v;
      };
      received.push({
        event: header('x-pullgate-event'),
        idempotencyKey: header('idempotency-key'),
        body: JSON.parse(Buffer.concat(chunks).toString()),
      });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => receiver?.listen(0, '127.0.0.1', resolve));
  const address = receiver.address();
  if (address === null || typeof address === 'string') throw new Error('receiver did not listen');
  upstream = await startRegistry();
  await seedRegistry(upstream);
  pullgate = await startPullgate({
    env: {
      PULLGATE_UPSTREAM: upstream.url,
      PULLGATE_AUDIT_SIGNING_KEY_FILE: keys.privateKey,
      PULLGATE_AUDIT_ORIGIN: ORIGIN,
      PULLGATE_WEBHOOKS: JSON.stringify([{ url: `http://127.0.0.1:${address.port}/siem`, format: 'json' }]),
    },
  });
}, 120_000);

afterAll(async () => {
  await pullgate?.stop();
  receiver?.closeAllConnections();
  await new Promise<void>((resolve) =>
    receiver === undefined ? resolve() : receiver.close(() => resolve()),
  );
  await upstream?.stop();
  await tmp?.cleanup();
});

describe('the log.checkpoint webhook', () => {
  it('delivers the signed checkpoint from the outbox, and that copy catches a later truncation', async () => {
    await (await fetch(`${pullgate?.url}/v2/library/app/manifests/nonroot`)).arrayBuffer();
    await waitUntil(() => received.some((r) => r.event === 'log.checkpoint'), {
      timeoutMs: 10_000,
      what: 'a log.checkpoint delivery',
    });
    const delivery = received.find((r) => r.event === 'log.checkpoint');
    expect(delivery?.idempotencyKey).toMatch(/^pullgate-\d+$/);
    expect(delivery?.body).toMatchObject({
      event: 'log.checkpoint',
      checkpoint: { origin: ORIGIN, signed: true },
    });
    const note = delivery?.body.checkpoint?.note ?? '';
    const opened = openCheckpoint(note, createPublicKey(await readFile(keys.publicKey)));
    expect(opened).toMatchObject({ ok: true, signed: true });
    const size = opened.ok ? opened.checkpoint.size : 0;
    expect(size).toBeGreaterThanOrEqual(1);

    // The data directory loses everything; the receiver's copy still says what was written.
    await pullgate?.app.close();
    const siem = join(tmp.path, 'siem.checkpoint');
    await writeFile(siem, note);
    const dataDir = pullgate?.dataDir ?? '';
    await rm(join(dataDir, 'audit'), { recursive: true });
    const out = await logVerify(dataDir, ['--public-key', keys.publicKey, '--checkpoint', siem]);
    expect(out.code).toBe(1);
    expect(out.stdout).toMatch(new RegExp(`^broken: truncated .*says ${size} were written`));
  });
});
