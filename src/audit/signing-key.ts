import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync, realpathSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve } from 'node:path';

// Loading the checkpoint signing key (PULLGATE_AUDIT_SIGNING_KEY_FILE) and the verifier's public key. Problems
// are returned as text naming what is wrong, never the file's content: it is a private key.

export type KeyLoad = { ok: true; key: KeyObject } | { ok: false; problem: string };

function isInside(dir: string, path: string): boolean {
  const rel = relative(dir, path);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/** The real path of `path`, or of its nearest existing ancestor joined with the rest (a data dir not yet made). */
function realPathOf(path: string): string {
  const abs = resolve(path);
  try {
    return realpathSync(abs);
  } catch {
    const parent = dirname(abs);
    return parent === abs ? abs : resolve(realPathOf(parent), relative(parent, abs));
  }
}

function errnoCode(err: unknown): string {
  return err instanceof Error && typeof (err as NodeJS.ErrnoException).code === 'string'
    ? String((err as NodeJS.ErrnoException).code)
    : 'error';
}

/**
 * Reads an Ed25519 private key from a PEM file that lies outside `dataDir`. Whoever can write the data directory
 * must not be able to read the key, or they could sign a checkpoint for a log they rewrote; the path is checked
 * as given and after symlinks are resolved, so a link in either direction is refused too.
 */
export function loadSigningKey(file: string, dataDir: string): KeyLoad {
  const data = realPathOf(dataDir);
  if (isInside(resolve(dataDir), resolve(file)) || isInside(data, realPathOf(file))) {
    return {
      ok: false,
      problem: `is inside the data directory ${resolve(dataDir)}: keep the signing key outside it (whoever can write the data directory could then sign a rewritten log)`,
    };
  }
  const pem = readPem(file);
  if (!Buffer.isBuffer(pem)) return pem;
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: pem, format: 'pem' });
  } catch {
    // The parser's message is left out: it may quote the input.
    return {
      ok: false,
      problem: 'is not an unencrypted PEM private key (make one with: openssl genpkey -algorithm ed25519)',
    };
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    return {
      ok: false,
      problem: `holds a ${key.asymmetricKeyType ?? 'unknown'} key, not Ed25519 (make one with: openssl genpkey -algorithm ed25519)`,
    };
  }
  return { ok: true, key };
}

/** Reads the public key a verifier trusts: a PEM public key (or a private key, whose public half is used). */
export function loadPublicKey(file: string): KeyLoad {
  const pem = readPem(file);
  if (!Buffer.isBuffer(pem)) return pem;
  let key: KeyObject;
  try {
    key = createPublicKey({ key: pem, format: 'pem' });
  } catch {
    return { ok: false, problem: 'is not a PEM public key (make one with: openssl pkey -in KEY -pubout)' };
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    return { ok: false, problem: `holds a ${key.asymmetricKeyType ?? 'unknown'} key, not Ed25519` };
  }
  return { ok: true, key };
}

/** The key file's bytes, or the problem with reading it (its errno code only: never its content). */
function readPem(file: string): Buffer | Extract<KeyLoad, { ok: false }> {
  try {
    return readFileSync(file);
  } catch (err) {
    return { ok: false, problem: `cannot be read (${errnoCode(err)})` };
  }
}
