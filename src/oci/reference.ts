import { type Digest, looksLikeDigest, requireDigest } from './digest.js';
import { RegistryError } from './errors.js';

// distribution-spec v1.1 "Pulling manifests": <name> and <reference> grammar.
const nameComponent = '[a-z0-9]+(?:(?:\\.|_|__|-+)[a-z0-9]+)*';
const nameGrammar = new RegExp(`^${nameComponent}(?:/${nameComponent})*$`);
const tagGrammar = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;
// distribution caps the whole name at 255 characters (reference.NameTotalLengthMax).
const nameMaxLength = 255;

export type Reference = { kind: 'tag'; tag: string } | { kind: 'digest'; digest: Digest };

export function isValidRepositoryName(name: string): boolean {
  return name.length > 0 && name.length <= nameMaxLength && nameGrammar.test(name);
}

export function isValidTag(tag: string): boolean {
  return tagGrammar.test(tag);
}

export function requireRepositoryName(name: string): string {
  if (!isValidRepositoryName(name)) {
    throw new RegistryError('NAME_INVALID', 'invalid repository name', {
      detail: { name: name.slice(0, 300) },
    });
  }
  return name;
}

export function parseReference(input: string): Reference {
  if (looksLikeDigest(input)) return { kind: 'digest', digest: requireDigest(input) };
  if (!tagGrammar.test(input)) {
    // The spec's conformance suite expects the tag `.INVALID_MANIFEST_NAME` to be a 404, not a 400: a tag
    // that cannot exist is simply unknown.
    throw new RegistryError('MANIFEST_UNKNOWN', 'manifest unknown: invalid tag', {
      detail: { tag: input.slice(0, 200) },
    });
  }
  return { kind: 'tag', tag: input };
}

export function referenceString(reference: Reference): string {
  return reference.kind === 'tag' ? reference.tag : reference.digest.value;
}

export type RegistryPath =
  | { kind: 'manifest'; name: string; reference: Reference }
  | { kind: 'blob'; name: string; digest: Digest }
  | { kind: 'tags'; name: string }
  | { kind: 'uploads'; name: string }
  | { kind: 'referrers'; name: string; digest: Digest };

/**
 * Splits the part of a /v2/ URL after `/v2/` into the endpoint and repository name. Names contain slashes, so
 * the endpoint is found from the end (`.../manifests/<ref>`, `.../blobs/<digest>`, `.../tags/list`).
 */
export function parseRegistryPath(rest: string): RegistryPath | undefined {
  const parts = rest.split('/');
  const n = parts.length;
  const last = parts[n - 1] ?? '';
  const second = parts[n - 2] ?? '';
  const nameOf = (drop: number) => requireRepositoryName(parts.slice(0, n - drop).join('/'));
  if (n >= 3 && second === 'manifests') {
    return { kind: 'manifest', name: nameOf(2), reference: parseReference(decodeURIComponent(last)) };
  }
  if (n >= 3 && second === 'blobs' && last !== 'uploads') {
    return { kind: 'blob', name: nameOf(2), digest: requireDigest(decodeURIComponent(last)) };
  }
  if (n >= 3 && second === 'tags' && last === 'list') return { kind: 'tags', name: nameOf(2) };
  if (n >= 3 && second === 'referrers') {
    return { kind: 'referrers', name: nameOf(2), digest: requireDigest(decodeURIComponent(last)) };
  }
  const uploads = parts.indexOf('uploads');
  if (uploads >= 2 && parts[uploads - 1] === 'blobs') {
    return { kind: 'uploads', name: requireRepositoryName(parts.slice(0, uploads - 1).join('/')) };
  }
  return undefined;
}
