import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ed25519KeyId, parseNote, signNote, verifyNote } from '../../../src/audit/note.js';

// The example of golang.org/x/mod/sumdb/note (its package documentation and note_test.go): a published test key,
// its text and the signed note Go produces. Ed25519 is deterministic, so our note must match it byte for byte.
const GO_SIGNER = 'PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz';
const GO_VERIFIER = 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW';
const GO_TEXT =
  "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
const GO_NOTE = `${GO_TEXT}\n\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n`;

/** The key field of a Go key string (after `skip` `+`s; the base64 may hold a `+`): type byte 0x01, 32 key bytes. */
function goKeyBytes(key: string, skip: number): Buffer {
  const fields = key.split('+');
  const bytes = Buffer.from(fields.slice(skip).join('+'), 'base64');
  expect(bytes[0]).toBe(0x01);
  return bytes.subarray(1);
}

const goPublic = createPublicKey({
  key: { kty: 'OKP', crv: 'Ed25519', x: goKeyBytes(GO_VERIFIER, 2).toString('base64url') },
  format: 'jwk',
});
const goPrivate = createPrivateKey({
  key: {
    kty: 'OKP',
    crv: 'Ed25519',
    d: goKeyBytes(GO_SIGNER, 4).toString('base64url'),
    x: goKeyBytes(GO_VERIFIER, 2).toString('base64url'),
  },
  format: 'jwk',
});

describe('signed notes (C2SP signed-note, Ed25519)', () => {
  it('computes the key ID as Go does: SHA-256(name || 0x0A || 0x01 || key)[:4]', () => {
    expect(ed25519KeyId('PeterNeumann', goPublic).toString('hex')).toBe('c74f20a3');
  });

  it('signs the Go example byte for byte as golang.org/x/mod/sumdb/note does', () => {
    expect(signNote(GO_TEXT, 'PeterNeumann', goPrivate)).toBe(GO_NOTE);
  });

  it('verifies a note Go signed', () => {
    expect(verifyNote(GO_NOTE, 'PeterNeumann', goPublic)).toEqual({ ok: true, text: GO_TEXT });
  });

  it('round-trips: a note it signs verifies with the matching public key', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const note = signNote('pullgate/test/decisions\n3\nAAAA\n', 'pullgate/test/decisions', privateKey);
    expect(verifyNote(note, 'pullgate/test/decisions', publicKey)).toMatchObject({ ok: true });
  });

  it('refuses a note when checked with another key', () => {
    const other = generateKeyPairSync('ed25519').publicKey;
    const result = verifyNote(GO_NOTE, 'PeterNeumann', other);
    expect(result).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/no signature by PeterNeumann/),
    });
  });

  it('refuses a note whose text had one byte flipped', () => {
    const flipped = GO_NOTE.replace('cryptography', 'cryptographY');
    const result = verifyNote(flipped, 'PeterNeumann', goPublic);
    expect(result).toMatchObject({ ok: false, reason: expect.stringMatching(/does not verify/) });
  });

  it('refuses a note whose signature had one byte flipped', () => {
    const parsed = parseNote(GO_NOTE);
    if (!parsed.ok) throw new Error('the Go note should parse');
    const [sig] = parsed.note.signatures;
    if (sig === undefined) throw new Error('the Go note has a signature');
    const blob = Buffer.concat([sig.keyId, sig.signature]);
    blob[10] = (blob[10] ?? 0) ^ 0x01;
    const forged = `${GO_TEXT}\n\u2014 PeterNeumann ${blob.toString('base64')}\n`;
    expect(verifyNote(forged, 'PeterNeumann', goPublic)).toMatchObject({ ok: false });
  });

  it('ignores signatures by other keys and still verifies the one it knows', () => {
    const { privateKey } = generateKeyPairSync('ed25519');
    const extra = signNote(GO_TEXT, 'witness.example/w1', privateKey).slice(GO_TEXT.length + 1);
    expect(verifyNote(`${GO_NOTE}${extra}`, 'PeterNeumann', goPublic)).toMatchObject({ ok: true });
  });

  it('refuses an unsigned note (the text alone)', () => {
    expect(verifyNote(GO_TEXT, 'PeterNeumann', goPublic)).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/unsigned/),
    });
  });
});
