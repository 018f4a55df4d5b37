import { describe, expect, it } from 'vitest';
import { RegistryError } from '../../../src/oci/errors.js';
import { isValidRepositoryName, parseReference, parseRegistryPath } from '../../../src/oci/reference.js';

// distribution-spec grammar for <name> and <reference>, decided locally before anything goes upstream.
describe('repository names', () => {
  it.each([
    ['library/alpine', true],
    ['a', true],
    ['ghcr.io/org/app', true],
    ['my-org/my_app/sub.part', true],
    ['a__b', true],
    ['a---b', true],
    ['Upper', false],
    ['a//b', false],
    ['/a', false],
    ['a/', false],
    ['-a', false],
    ['a_', false],
    ['a___b', false],
    ['a.-b', false],
    ['', false],
    ['a'.repeat(256), false],
  ])('%s → %s', (name, valid) => {
    expect(isValidRepositoryName(name)).toBe(valid);
  });
});

describe('references', () => {
  it('reads tags and digests', () => {
    expect(parseReference('3.12-slim')).toEqual({ kind: 'tag', tag: '3.12-slim' });
    const digest = `sha256:${'a'.repeat(64)}`;
    expect(parseReference(digest)).toMatchObject({
      kind: 'digest',
      digest: { value: digest, algorithm: 'sha256' },
    });
  });

  it.each([
    'sha256:totallywrong',
    'sha256:',
    `sha256:${'A'.repeat(64)}`,
    `md5:${'a'.repeat(32)}`,
    `sha512:${'a'.repeat(64)}`,
  ])('refuses the malformed digest %s with DIGEST_INVALID', (input) => {
    expect(() => parseReference(input)).toThrowError(RegistryError);
    try {
      parseReference(input);
    } catch (err) {
      expect((err as RegistryError).code).toBe('DIGEST_INVALID');
      expect((err as RegistryError).status).toBe(400);
    }
  });

  it.each(['.INVALID_MANIFEST_NAME', '-lead', 'a'.repeat(129), 'has space'])(
    'answers the impossible tag %s as unknown',
    (tag) => {
      try {
        parseReference(tag);
        expect.unreachable();
      } catch (err) {
        expect((err as RegistryError).code).toBe('MANIFEST_UNKNOWN');
        expect((err as RegistryError).status).toBe(404);
      }
    },
  );
});

describe('registry paths', () => {
  const digest = `sha256:${'c'.repeat(64)}`;
  it('finds the endpoint from the end, since names contain slashes', () => {
    expect(parseRegistryPath('a/b/c/manifests/latest')).toMatchObject({ kind: 'manifest', name: 'a/b/c' });
    expect(parseRegistryPath(`manifests/blobs/${digest}`)).toMatchObject({ kind: 'blob', name: 'manifests' });
    expect(parseRegistryPath('library/app/tags/list')).toMatchObject({ kind: 'tags', name: 'library/app' });
    expect(parseRegistryPath('library/app/blobs/uploads/')).toMatchObject({
      kind: 'uploads',
      name: 'library/app',
    });
    expect(parseRegistryPath('library/app/nonsense')).toBeUndefined();
  });
});
