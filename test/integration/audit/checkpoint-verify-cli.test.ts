import { generateKeyPairSync } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signCheckpoint } from '../../../src/audit/checkpoint.js';
import { verifyLogDir } from '../../../src/audit/index.js';
import { seedRegistry } from '../../helpers/images.js';
import { waitUntil } from '../../helpers/proc.js';
import { type Pullgate, startPullgate } from '../../helpers/pullgate.js';
import { type Registry, startRegistry } from '../../helpers/registry.js';
import { makeTempDir, type TempDir } from '../../helpers/tmp.js';
import {
  checkpointSize,
  copyDataDir,
  type KeyFiles,
  locateRecords,
  logVerify,
  ORIGIN,
  rewriteAndRechain,
  writeKeyFiles,
} from './checkpoint-setup.js';
import { fileNames, readLines, writeLines } from './log-dir.js';

// The real server writes a signed log (several files) and its checkpoints; each test tampers with a copy of that
// data directory the way someone who can write it would, and runs the real `pullgate log verify`.
const token = 'checkpoint-cli-token';
let upstream: Registry | undefined;
let pullgate: Pullgate | undefined;
let tmp: TempDir;
let keys: KeyFiles;
let pristine: string;
/** Checkpoints fetched from the admin API while the server ran, as a SIEM keeps them. */
let older: string;
let latest: string;

async function adminCheckpoint(server: Pullgate): Promise<string> {
  const res = await fetch(`${server.url}/admin/log/checkpoint`, {
    headers: { authorization: `Bearer ${token}` },
  });
  expect(res.status).toBe(200);
  return res.text();
}

/** Waits until the admin API's checkpoint names the last record on disk, and returns it. */
async function caughtUp(server: Pullgate): Promise<string> {
  let note = '';
  await waitUntil(
    async () => {
      const head = (await locateRecords(join(server.dataDir, 'audit'))).at(-1)?.record.seq;
      note = await adminCheckpoint(server);
      return checkpointSize(note) === head;
    },
    { timeoutMs: 10_000, what: 'a checkpoint of the head' },
  );
  return note;
}

beforeAll(async () => {
  tmp = await makeTempDir('checkpoint-cli');
  keys = await writeKeyFiles(tmp.path);
  pristine = join(tmp.path, 'pristine');
  upstream = await startRegistry();
  await seedRegistry(upstream);
  pullgate = await startPullgate({
    dataDir: pristine,
    env: {
      PULLGATE_UPSTREAM: upstream.url,
      PULLGATE_ADMIN_TOKEN: token,
      PULLGATE_AUDIT_SIGNING_KEY_FILE: keys.privateKey,
      PULLGATE_AUDIT_ORIGIN: ORIGIN,
      // Small files: the chain crosses several of them.
      PULLGATE_AUDIT_MAX_FILE_BYTES: '4096',
    },
  });
  const pull = async (tag: string) =>
    (await fetch(`${pullgate?.url}/v2/library/app/manifests/${tag}`)).arrayBuffer();
  for (const tag of ['nonroot', 'root', 'secretenv', 'v2s2', 'argleak']) await pull(tag);
  older = await caughtUp(pullgate);
  for (const tag of ['nonroot', 'root', 'oci-index', 'docker-list', 'secretenv', 'nonroot', 'root']) {
    await pull(tag);
  }
  latest = await caughtUp(pullgate);
  await pullgate.stop();
  pullgate = undefined;
}, 120_000);

afterAll(async () => {
  await pullgate?.stop();
  await upstream?.stop();
  await tmp?.cleanup();
});

async function tamperedCopy(label: string): Promise<{ dataDir: string; auditDir: string }> {
  const dataDir = await copyDataDir(pristine, join(tmp.path, label));
  return { dataDir, auditDir: join(dataDir, 'audit') };
}

const verifyArgs = () => ['--public-key', keys.publicKey];

describe('pullgate log verify with signed checkpoints', () => {
  it('passes the untouched log, its own checkpoint and the SIEM copies', async () => {
    expect((await fileNames(join(pristine, 'audit'))).length).toBeGreaterThan(2);
    const older_ = join(tmp.path, 'older.checkpoint');
    const latest_ = join(tmp.path, 'latest.checkpoint');
    await writeFile(older_, older);
    await writeFile(latest_, latest);
    const out = await logVerify(pristine, [...verifyArgs(), '--checkpoint', older_, '--checkpoint', latest_]);
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(/^ok: /);
    expect(out.stdout).toContain(
      `(${ORIGIN}, signed): the chain matches it at record ${checkpointSize(latest)}`,
    );
  });

  it('fails on an edited record, naming it', async () => {
    const { dataDir, auditDir } = await tamperedCopy('edited');
    const denied = (await locateRecords(auditDir)).find((r) => r.record.decision === 'deny');
    if (denied === undefined) throw new Error('the log should hold a deny');
    const lines = await readLines(auditDir, denied.name);
    lines[denied.index] = (lines[denied.index] ?? '').replace('"decision":"deny"', '"decision":"allow"');
    await writeLines(auditDir, denied.name, lines);

    const out = await logVerify(dataDir, verifyArgs());
    expect(out.code).toBe(1);
    expect(out.stdout).toMatch(
      new RegExp(
        `^broken: edited at ${denied.name} line ${denied.index + 1} \\(record ${denied.record.seq}\\)`,
      ),
    );
  });

  it('fails on a deleted record', async () => {
    const { dataDir, auditDir } = await tamperedCopy('deleted');
    const victim = (await locateRecords(auditDir))[3];
    if (victim === undefined) throw new Error('the log should hold records');
    const lines = await readLines(auditDir, victim.name);
    lines.splice(victim.index, 1);
    await writeLines(auditDir, victim.name, lines);

    const out = await logVerify(dataDir, verifyArgs());
    expect(out.code).toBe(1);
    expect(out.stdout).toMatch(new RegExp(`^broken: deleted at .* \\(record ${victim.record.seq}\\)`));
  });

  it('fails on reordered records', async () => {
    const { dataDir, auditDir } = await tamperedCopy('reordered');
    const name = (await fileNames(auditDir))[0] ?? '';
    const lines = await readLines(auditDir, name);
    [lines[1], lines[2]] = [lines[2] ?? '', lines[1] ?? ''];
    await writeLines(auditDir, name, lines);

    const out = await logVerify(dataDir, verifyArgs());
    expect(out.code).toBe(1);
    expect(out.stdout).toMatch(/^broken: reordered /);
  });

  it('fails when records after the latest checkpoint were cut off the end', async () => {
    const { dataDir, auditDir } = await tamperedCopy('truncated');
    const names = await fileNames(auditDir);
    const newest = names[names.length - 1] ?? '';
    const lines = await readLines(auditDir, newest);
    // Whole lines, so the files alone look like a log that simply ends earlier.
    await writeLines(auditDir, newest, [...lines.slice(0, -3), '']);

    const out = await logVerify(dataDir, verifyArgs());
    expect(out.code).toBe(1);
    expect(out.stdout).toMatch(/^broken: truncated /);
    expect(out.stdout).toContain(`${checkpointSize(latest)} were written`);
  });

  it('fails on a rollback to an older checkpoint only with the SIEM copy of a newer one', async () => {
    const { dataDir, auditDir } = await tamperedCopy('rollback');
    // Cut every record after the older checkpoint and put that (genuinely signed) checkpoint back in place.
    const keep = checkpointSize(older);
    for (const name of await fileNames(auditDir)) {
      const lines = (await readLines(auditDir, name)).filter(
        (line) => line !== '' && (JSON.parse(line) as { seq: number }).seq <= keep,
      );
      if (lines.length === 0) await rm(join(auditDir, name));
      else await writeLines(auditDir, name, [...lines, '']);
    }
    await writeFile(join(auditDir, 'checkpoint'), older);
    const siem = join(tmp.path, 'siem.checkpoint');
    await writeFile(siem, latest);

    // From the data directory alone the rolled-back log is consistent: this is what the external copy is for.
    expect((await logVerify(dataDir, verifyArgs())).code).toBe(0);
    const out = await logVerify(dataDir, [...verifyArgs(), '--checkpoint', siem]);
    expect(out.code).toBe(1);
    expect(out.stdout).toMatch(/^broken: truncated /);
  });

  it('fails on a chain rewritten with recomputed hashes (deny turned into allow)', async () => {
    const { dataDir, auditDir } = await tamperedCopy('rewritten');
    const target = await rewriteAndRechain(
      auditDir,
      (r) => r.decision === 'deny',
      (r) => ({ ...r, decision: 'allow', status: 200, findings: [] }),
    );
    expect(target.decision).toBe('deny');
    // The chain on its own is consistent again: only the checkpoint can tell.
    expect(await verifyLogDir(auditDir, { localCheckpoint: false })).toMatchObject({ ok: true });

    const out = await logVerify(dataDir, verifyArgs());
    expect(out.code).toBe(1);
    expect(out.stdout).toMatch(
      new RegExp(`^broken: rewritten at .* \\(record ${checkpointSize(latest)}\\): .*signed checkpoint`),
    );
  });

  it('fails on a checkpoint re-signed with another key after a rewrite', async () => {
    const { dataDir, auditDir } = await tamperedCopy('bad-signature');
    await rewriteAndRechain(
      auditDir,
      (r) => r.decision === 'deny',
      (r) => ({ ...r, decision: 'allow', status: 200, findings: [] }),
    );
    const records = await locateRecords(auditDir);
    const head = records[records.length - 1]?.record;
    if (head === undefined) throw new Error('the log should hold records');
    const forged = signCheckpoint(
      { origin: ORIGIN, size: head.seq, hash: head.hash },
      generateKeyPairSync('ed25519').privateKey,
    );
    await writeFile(join(auditDir, 'checkpoint'), forged);

    const out = await logVerify(dataDir, verifyArgs());
    expect(out.code).toBe(1);
    expect(out.stdout).toMatch(/^broken: bad-signature at \S*checkpoint: /);
  });

  it('fails when the checkpoint was deleted and a public key is given', async () => {
    const { dataDir, auditDir } = await tamperedCopy('no-checkpoint');
    await rm(join(auditDir, 'checkpoint'));

    const out = await logVerify(dataDir, verifyArgs());
    expect(out.code).toBe(1);
    expect(out.stdout).toMatch(/^broken: bad-signature .*there is no checkpoint/);
  });
});
