import { createHash } from 'node:crypto';
import { RegistryError } from './errors.js';

// OCI image spec, descriptor.md "Digests": algorithm ":" encoded, with the registered algorithms' encodings
// fixed. Only sha256 and sha512 are registered; anything else is refused rather than forwarded.
const digestGrammar = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;
const registered: Record<string, RegExp> = {
  sha256: /^[a-f0-9]{64}$/,
  sha512: /^[a-f0-9]{128}$/,
};

export type DigestAlgorithm = 'sha256' | 'sha512';

export interface Digest {
  algorithm: DigestAlgorithm;
  encoded: string;
  /** The canonical `algorithm:encoded` string. */
  value: string;
}

export function parseDigest(input: string): Digest | undefined {
  if (input.length > 256 || !digestGrammar.test(input)) return undefined;
  const colon = input.indexOf(':');
  const algorithm = input.slice(0, colon);
  const encoded = input.slice(colon + 1);
  const pattern = registered[algorithm];
  if (pattern === undefined || !pattern.test(encoded)) return undefined;
  return { algorithm: algorithm as DigestAlgorithm, encoded, value: input };
}

export function requireDigest(input: string): Digest {
  const digest = parseDigest(input);
  if (digest === undefined) {
    throw new RegistryError(
      'DIGEST_INVALID',
      'invalid digest: expected sha256:<64 hex> or sha512:<128 hex>',
      {
        detail: { digest: input.slice(0, 200) },
      },
    );
  }
  return digest;
}

/** True when `input` has the shape of a digest at all (so a reference is a digest, valid or not). */
export function looksLikeDigest(input: string): boolean {
  return input.includes(':');
}

/** The algorithm a digest string names (sha256 unless it says sha512; the grammar allows no others here). */
export function algorithmOf(digest: string): DigestAlgorithm {
  return digest.startsWith('sha512:') ? 'sha512' : 'sha256';
}

/** Whether `bytes` hash to `digest`, with the algorithm the digest names. */
export function matchesDigest(bytes: Uint8Array, digest: string): boolean {
  return digestOf(bytes, algorithmOf(digest)) === digest;
}

export function digestOf(bytes: Uint8Array, algorithm: DigestAlgorithm = 'sha256'): string {
  return `${algorithm}:${createHash(algorithm).update(bytes).digest('hex')}`;
}
