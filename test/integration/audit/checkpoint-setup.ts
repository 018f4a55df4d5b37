import { generateKeyPairSync } from 'node:crypto';
import { cp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type ChainedRecord, parseChainedLine, seal } from '../../../src/audit/chain.js';
import { run } from '../../helpers/proc.js';
import { fileNames, readLines, writeLines } from './log-dir.js';

export const ORIGIN = 'pullgate.test/replica-1/decisions';

export interface KeyFiles {
  /** PKCS#8 PEM private key: PULLGATE_AUDIT_SIGNING_KEY_FILE. */
  privateKey: string;
  /** SPKI PEM public key: `log verify --public-key`. */
  publicKey: string;
}

/** A fresh Ed25519 key pair written as PEM files into `dir` (which must be outside the data directory). */
export async function writeKeyFiles(dir: string, name = 'signing'): Promise<KeyFiles> {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const files = { privateKey: join(dir, `${name}.pem`), publicKey: join(dir, `${name}.pub.pem`) };
  await writeFile(files.privateKey, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  await writeFile(files.publicKey, publicKey.export({ type: 'spki', format: 'pem' }));
  return files;
}

/** `pullgate log verify` as a user runs it: a real process from the sources. */
export async function logVerify(dataDir: string, args: readonly string[]) {
  return run(
    process.execPath,
    ['--import', 'tsx', 'src/cli.ts', 'log', 'verify', '--data-dir', dataDir, ...args],
    { allowFailure: true, timeoutMs: 60_000 },
  );
}

/** A copy of a pristine data directory, for one tampering. */
export async function copyDataDir(from: string, to: string): Promise<string> {
  const dest = join(to, 'data');
  await cp(from, dest, { recursive: true });
  return dest;
}

export async function readCheckpoint(auditDir: string): Promise<string> {
  return readFile(join(auditDir, 'checkpoint'), 'utf8');
}

/** The size line of a checkpoint note. */
export function checkpointSize(note: string): number {
  return Number(note.split('\n')[1]);
}

interface Located {
  name: string;
  index: number;
  record: ChainedRecord;
}

/** Every record of the log with its file and line index, in chain order. */
export async function locateRecords(auditDir: string): Promise<Located[]> {
  const out: Located[] = [];
  for (const name of await fileNames(auditDir)) {
    for (const [index, line] of (await readLines(auditDir, name)).entries()) {
      const record = line === '' ? undefined : parseChainedLine(line);
      if (record !== undefined) out.push({ name, index, record });
    }
  }
  return out;
}

/**
 * What an attacker who can write the data directory does to hide an edit: change one record, then re-seal it
 * and every record after it (new `prev` and `hash`), so the chain is consistent again end to end.
 */
export async function rewriteAndRechain(
  auditDir: string,
  pick: (record: ChainedRecord) => boolean,
  edit: (record: ChainedRecord) => ChainedRecord,
): Promise<ChainedRecord> {
  const records = await locateRecords(auditDir);
  const first = records.findIndex((r) => pick(r.record));
  const target = records[first];
  if (target === undefined) throw new Error('no record to rewrite');
  const files = new Map<string, string[]>();
  for (const name of await fileNames(auditDir)) files.set(name, await readLines(auditDir, name));
  let prev = records[first - 1]?.record.hash ?? '0'.repeat(64);
  for (const located of records.slice(first)) {
    const record = located === target ? edit(located.record) : located.record;
    const { v: _v, seq, time, prev: _prev, hash: _hash, ...body } = record;
    const sealed = seal({ seq, time, prev }, body);
    prev = sealed.hash;
    const lines = files.get(located.name) ?? [];
    lines[located.index] = sealed.line;
  }
  for (const [name, lines] of files) await writeLines(auditDir, name, lines);
  return target.record;
}
