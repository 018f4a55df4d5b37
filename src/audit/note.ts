import { createHash, type KeyObject, sign, verify } from 'node:crypto';

// C2SP signed notes (https://c2sp.org/signed-note), Ed25519 only: a text ending in a newline, a blank line, then
// signature lines `— <key name> base64(key ID || signature)`. Pure: no I/O, no clock.

/** The signature type byte the spec assigns to Ed25519 (signed-note, "Signature types"). */
const ED25519_TYPE = 0x01;
/** U+2014 EM DASH and a space: how every signature line starts. */
const SIGNATURE_PREFIX = '\u2014 ';
const ED25519_SIGNATURE_BYTES = 64;
/** Verifiers must accept at least 16 signatures; more than this many lines is refused unread. */
const MAX_SIGNATURES = 16;
/** A bound on the whole note, so a hostile file cannot make the verifier read without end. */
export const MAX_NOTE_BYTES = 64 * 1024;

/** Key names are non-empty and hold no Unicode space and no `+` (signed-note, "Format"). */
export function isValidKeyName(name: string): boolean {
  return name.length > 0 && !/[\s+]/u.test(name) && !hasControlCharacter(name);
}

function hasControlCharacter(text: string): boolean {
  // Signed notes "MUST NOT contain any ASCII control characters ... other than newline".
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c < 0x20 && c !== 0x0a) || c === 0x7f) return true;
  }
  return false;
}

/** The 32 raw bytes of an Ed25519 public key (RFC 8032 encoding), from a public or private key object. */
export function rawEd25519PublicKey(key: KeyObject): Buffer {
  if (key.asymmetricKeyType !== 'ed25519') throw new TypeError('not an Ed25519 key');
  const jwk = key.export({ format: 'jwk' });
  if (typeof jwk.x !== 'string') throw new TypeError('not an Ed25519 key');
  return Buffer.from(jwk.x, 'base64url');
}

/** key ID = SHA-256(key name || 0x0A || 0x01 || 32-byte Ed25519 public key)[:4] (signed-note, "Ed25519 signatures"). */
export function ed25519KeyId(name: string, publicKey: KeyObject): Buffer {
  return createHash('sha256')
    .update(name, 'utf8')
    .update(Buffer.from([0x0a, ED25519_TYPE]))
    .update(rawEd25519PublicKey(publicKey))
    .digest()
    .subarray(0, 4);
}

/** The note's text must be valid for signing: non-empty, newline-terminated, no control characters. */
function checkText(text: string): void {
  if (text === '' || !text.endsWith('\n')) throw new TypeError('a note text must end in a newline');
  if (hasControlCharacter(text)) throw new TypeError('a note text cannot hold control characters');
}

/** Signs `text` (which ends in a newline) and returns the whole signed note. */
export function signNote(text: string, name: string, privateKey: KeyObject): string {
  checkText(text);
  if (!isValidKeyName(name)) throw new TypeError('invalid key name');
  const signature = sign(null, Buffer.from(text, 'utf8'), privateKey);
  const blob = Buffer.concat([ed25519KeyId(name, privateKey), signature]).toString('base64');
  return `${text}\n${SIGNATURE_PREFIX}${name} ${blob}\n`;
}

export interface NoteSignature {
  name: string;
  keyId: Buffer;
  signature: Buffer;
}

export interface ParsedNote {
  /** The signed text, with its final newline. */
  text: string;
  signatures: NoteSignature[];
}

export type NoteParse = { ok: true; note: ParsedNote } | { ok: false; reason: string };

/**
 * Splits a signed note into its text and signature lines. The text is separated from the signatures by the
 * last blank line; a note with no signature line (an unsigned checkpoint) does not parse.
 */
export function parseNote(note: string): NoteParse {
  if (Buffer.byteLength(note, 'utf8') > MAX_NOTE_BYTES) return { ok: false, reason: 'the note is too large' };
  if (note.includes('\uFFFD')) return { ok: false, reason: 'the note is not valid UTF-8' };
  if (hasControlCharacter(note)) return { ok: false, reason: 'the note holds control characters' };
  if (!note.endsWith('\n')) return { ok: false, reason: 'the note does not end in a newline' };
  const split = note.lastIndexOf('\n\n');
  if (split === -1) return { ok: false, reason: 'the note has no signature lines (it is unsigned)' };
  const text = note.slice(0, split + 1);
  const lines = note.slice(split + 2, -1).split('\n');
  if (lines.length > MAX_SIGNATURES) return { ok: false, reason: 'the note has too many signature lines' };
  const signatures: NoteSignature[] = [];
  for (const line of lines) {
    if (!line.startsWith(SIGNATURE_PREFIX)) return { ok: false, reason: 'a signature line is malformed' };
    const rest = line.slice(SIGNATURE_PREFIX.length);
    const space = rest.indexOf(' ');
    const name = rest.slice(0, space);
    const encoded = rest.slice(space + 1);
    if (space <= 0 || !isValidKeyName(name) || !/^[A-Za-z0-9+/]+={0,2}$/.test(encoded)) {
      return { ok: false, reason: 'a signature line is malformed' };
    }
    const blob = Buffer.from(encoded, 'base64');
    if (blob.length < 5 || blob.toString('base64') !== encoded) {
      return { ok: false, reason: 'a signature line is malformed' };
    }
    signatures.push({ name, keyId: blob.subarray(0, 4), signature: blob.subarray(4) });
  }
  return { ok: true, note: { text, signatures } };
}

export type NoteVerification = { ok: true; text: string } | { ok: false; reason: string };

/**
 * Verifies a signed note against one known key. Signatures from other keys (another name or key ID) are ignored,
 * as the spec requires; a signature from this key that fails rejects the note, and so does a note this key has
 * not signed at all.
 */
export function verifyNote(note: string, name: string, publicKey: KeyObject): NoteVerification {
  const parsed = parseNote(note);
  if (!parsed.ok) return parsed;
  const keyId = ed25519KeyId(name, publicKey);
  const message = Buffer.from(parsed.note.text, 'utf8');
  let verified = false;
  for (const s of parsed.note.signatures) {
    if (s.name !== name || !s.keyId.equals(keyId)) continue;
    if (s.signature.length !== ED25519_SIGNATURE_BYTES || !verify(null, message, publicKey, s.signature)) {
      return {
        ok: false,
        reason: `the signature by ${name} does not verify: the note was changed or forged`,
      };
    }
    verified = true;
  }
  if (!verified)
    return { ok: false, reason: `the note carries no signature by ${name} with this public key` };
  return { ok: true, text: parsed.note.text };
}
