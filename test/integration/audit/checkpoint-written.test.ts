import { createPublicKey } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCheckpoint } from '../../../src/audit/checkpoint.js';
import { seedRegistry } from '../../helpers/images.js';
import { waitUntil } from '../../helpers/proc.js';
import { type Pullgate, type StartPullgateOptions, startPullgate } from '../../helpers/pullgate.js';
import { type Registry, startRegistry } from '../../helpers/registry.js';
import { makeTempDir, type TempDir } from '../../helpers/tmp.js';
import { type KeyFiles, locateRecords, ORIGIN, readCheckpoint, writeKeyFiles } from './checkpoint-setup.js';

// When the running server writes its checkpoint, and how it serves it.
const token = 'checkpoint-written-token';
let upstream: Registry | undefined;
let tmp: TempDir;
let keys: KeyFiles;
const started: Pullgate[] = [];

beforeAll(async () => {
  tmp = await makeTempDir('checkpoint-written');
  keys = await writeKeyFiles(tmp.path);
  upstream = await startRegistry();
  await seedRegistry(upstream);
});
afterAll(async () => {
  for (const p of started) await p.stop().catch(() => undefined);
  await upstream?.stop();
  await tmp?.cleanup();
});

async function start(env: Record<string, string>, tweak?: StartPullgateOptions['tweak']): Promise<Pullgate> {
  const p = await startPullgate({
    env: {
      PULLGATE_UPSTREAM: upstream?.url ?? '',
      PULLGATE_ADMIN_TOKEN: token,
      PULLGATE_AUDIT_ORIGIN: ORIGIN,
      ...env,
    },
    ...(tweak === undefined ? {} : { tweak }),
  });
  started.push(p);
  return p;
}

const signed = () => ({ PULLGATE_AUDIT_SIGNING_KEY_FILE: keys.privateKey });

async function publicKey() {
  return createPublicKey(await readFile(keys.publicKey));
}

async function pull(p: Pullgate, tag: string): Promise<void> {
  const res = await fetch(`${p.url}/v2/library/app/manifests/${tag}`);
  await res.arrayBuffer();
}

async function headSeq(p: Pullgate): Promise<number> {
  return (await locateRecords(join(p.dataDir, 'audit'))).at(-1)?.record.seq ?? 0;
}

async function fileCheckpoint(p: Pullgate) {
  const opened = openCheckpoint(await readCheckpoint(join(p.dataDir, 'audit')), await publicKey());
  if (!opened.ok) throw new Error(`the checkpoint file does not verify: ${opened.reason}`);
  return opened.checkpoint;
}

describe('checkpoints written by the running server', () => {
  it('writes a signed checkpoint naming new records soon after they arrive', async () => {
    const p = await start(signed());
    for (const tag of ['nonroot', 'root', 'secretenv']) await pull(p, tag);
    const head = await headSeq(p);
    expect(head).toBeGreaterThanOrEqual(4);
    // The answers are in; the checkpoint follows on its own timer (every second), not on the answer path.
    await waitUntil(async () => (await fileCheckpoint(p)).size === head, {
      timeoutMs: 5_000,
      what: `a checkpoint of record ${head}`,
    });
    const records = await locateRecords(join(p.dataDir, 'audit'));
    expect(await fileCheckpoint(p)).toEqual({
      origin: ORIGIN,
      size: head,
      hash: records.at(-1)?.record.hash,
    });
  });

  it('writes the final checkpoint at shutdown', async () => {
    // The timer is pushed out of reach, so only the shutdown can write the checkpoint of the last records.
    const p = await start(signed(), (config) => {
      config.audit.checkpointIntervalMs = 3_600_000;
    });
    const atOpen = await fileCheckpoint(p);
    for (const tag of ['nonroot', 'root']) await pull(p, tag);
    const head = await headSeq(p);
    expect((await fileCheckpoint(p)).size).toBe(atOpen.size);
    expect(head).toBeGreaterThan(atOpen.size);

    await p.app.close();
    expect((await fileCheckpoint(p)).size).toBe(head);
  });

  it('serves the latest checkpoint note at GET /admin/log/checkpoint, and its fields as JSON', async () => {
    const p = await start(signed());
    await pull(p, 'nonroot');
    const head = await headSeq(p);
    const auth = { authorization: `Bearer ${token}` };
    let note = '';
    await waitUntil(
      async () => {
        const res = await fetch(`${p.url}/admin/log/checkpoint`, { headers: auth });
        expect(res.status).toBe(200);
        expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
        note = await res.text();
        return note.split('\n')[1] === String(head);
      },
      { timeoutMs: 5_000, what: 'the admin checkpoint to reach the head' },
    );
    expect(openCheckpoint(note, await publicKey())).toMatchObject({ ok: true, signed: true });

    const json = await fetch(`${p.url}/admin/log/checkpoint?format=json`, { headers: auth });
    expect(await json.json()).toMatchObject({
      origin: ORIGIN,
      size: head,
      signed: true,
      keyId: expect.stringMatching(/^[a-f0-9]{8}$/),
      note,
    });
  });

  it('refuses the checkpoint route without the admin token', async () => {
    const p = await start(signed());
    const res = await fetch(`${p.url}/admin/log/checkpoint`);
    expect(res.status).toBe(401);
    expect(await res.text()).not.toContain(ORIGIN);
  });

  it('answers a bad format with 400', async () => {
    const p = await start(signed());
    const res = await fetch(`${p.url}/admin/log/checkpoint?format=xml`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(res.status).toBe(400);
  });

  it('writes unsigned checkpoints (the text alone) when no signing key is set', async () => {
    const p = await start({});
    await pull(p, 'nonroot');
    await p.app.close();
    const note = await readCheckpoint(join(p.dataDir, 'audit'));
    expect(note.split('\n')).toHaveLength(4);
    expect(openCheckpoint(note)).toMatchObject({ ok: true, signed: false, checkpoint: { origin: ORIGIN } });
    expect(openCheckpoint(note, await publicKey())).toMatchObject({ ok: false });
  });
});
