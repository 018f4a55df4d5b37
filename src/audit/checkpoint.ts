import type { KeyObject } from 'node:crypto';
import type { ChainHead } from './chain.js';
import { ed25519KeyId, isValidKeyName, parseNote, signNote, verifyNote } from './note.js';

// Checkpoints in the C2SP tlog-checkpoint form (https://c2sp.org/tlog-checkpoint): a signed note whose text is
//   <origin>\n<size>\n<base64 of the head hash>\n
// Our log is a hash chain, not an RFC 6962 Merkle tree: the third line is the `hash` of record number <size>
// (the chain head), which commits to every record before it through `prev`. Tools that expect a Merkle root and
// consistency proofs can store and compare these notes, but cannot build proofs from them. Pure: no I/O.

export interface Checkpoint {
  /** The log's identity, also the signing key's name. */
  origin: string;
  /** Records written since the log began: the seq of the head record (0 for an empty log). */
  size: number;
  /** The head record's `hash`, hex (64 zeros for an empty log). */
  hash: string;
}

export function checkpointOf(origin: string, head: ChainHead): Checkpoint {
  return { origin, size: head.seq, hash: head.hash };
}

/** The note text: origin, size (decimal, no leading zeros), base64 head hash, each on its own line. */
export function checkpointText(checkpoint: Checkpoint): string {
  if (!isValidKeyName(checkpoint.origin)) throw new TypeError('invalid checkpoint origin');
  if (!Number.isSafeInteger(checkpoint.size) || checkpoint.size < 0)
    throw new TypeError('invalid checkpoint size');
  if (!/^[a-f0-9]{64}$/.test(checkpoint.hash)) throw new TypeError('invalid checkpoint hash');
  return `${checkpoint.origin}\n${checkpoint.size}\n${Buffer.from(checkpoint.hash, 'hex').toString('base64')}\n`;
}

/** The signed note, named by the origin (the spec: "the log's key name SHOULD match the origin line"). */
export function signCheckpoint(checkpoint: Checkpoint, privateKey: KeyObject): string {
  return signNote(checkpointText(checkpoint), checkpoint.origin, privateKey);
}

export type CheckpointParse = { ok: true; checkpoint: Checkpoint } | { ok: false; reason: string };

/** Parses a checkpoint's text (origin, size, hash). Extension lines are refused: we never write any. */
export function parseCheckpointText(text: string): CheckpointParse {
  const lines = text.split('\n');
  if (lines.length !== 4 || lines[3] !== '') {
    return { ok: false, reason: 'a checkpoint text is three lines: origin, size, hash' };
  }
  const [origin = '', sizeText = '', hashText = ''] = lines;
  if (!isValidKeyName(origin)) return { ok: false, reason: 'the origin line is empty or invalid' };
  if (!/^(?:0|[1-9]\d{0,15})$/.test(sizeText) || !Number.isSafeInteger(Number(sizeText))) {
    return { ok: false, reason: 'the size line is not a decimal count' };
  }
  const hash = Buffer.from(hashText, 'base64');
  if (hash.length !== 32 || hash.toString('base64') !== hashText) {
    return { ok: false, reason: 'the hash line is not the base64 of a sha256 hash' };
  }
  return { ok: true, checkpoint: { origin, size: Number(sizeText), hash: hash.toString('hex') } };
}

export type CheckpointOpen =
  | { ok: true; checkpoint: Checkpoint; signed: boolean }
  | { ok: false; reason: string; signature: boolean };

/**
 * Reads a checkpoint from a file's content. With a public key the note must carry a verifying signature by it
 * (named by the checkpoint's origin); without one the checkpoint is read unauthenticated (`signed: false`), which
 * still catches truncation but not a forger who can write the file. `signature` on a failure says whether the
 * signature was at fault (rather than the text's shape).
 */
export function openCheckpoint(content: string, publicKey?: KeyObject): CheckpointOpen {
  const parsedNote = parseNote(content);
  const text = parsedNote.ok ? parsedNote.note.text : content;
  const parsed = parseCheckpointText(text);
  if (!parsed.ok) return { ...parsed, signature: false };
  if (publicKey === undefined) return { ok: true, checkpoint: parsed.checkpoint, signed: false };
  const verified = verifyNote(content, parsed.checkpoint.origin, publicKey);
  if (!verified.ok) return { ok: false, reason: verified.reason, signature: true };
  return { ok: true, checkpoint: parsed.checkpoint, signed: true };
}

/** The key ID a verifier will look for, hex: logged at start so operators can match keys to notes. */
export function checkpointKeyId(origin: string, key: KeyObject): string {
  return ed25519KeyId(origin, key).toString('hex');
}
