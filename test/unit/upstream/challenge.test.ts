import { describe, expect, it } from 'vitest';
import { parseChallenge } from '../../../src/upstream/challenge.js';

// WWW-Authenticate as registries send it (RFC 9110 §11.6.1; distribution token spec).
describe('parseChallenge', () => {
  it('reads Docker Hub’s Bearer challenge', () => {
    expect(
      parseChallenge(
        'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull"',
      ),
    ).toEqual({
      scheme: 'bearer',
      params: {
        realm: 'https://auth.docker.io/token',
        service: 'registry.docker.io',
        scope: 'repository:library/alpine:pull',
      },
    });
  });

  it('reads Basic, unquoted values, escapes and odd spacing', () => {
    expect(parseChallenge('Basic realm="basic-realm"')).toEqual({
      scheme: 'basic',
      params: { realm: 'basic-realm' },
    });
    expect(parseChallenge('bearer  realm=https://r/t , service="a\\"b"')).toEqual({
      scheme: 'bearer',
      params: { realm: 'https://r/t', service: 'a"b' },
    });
    expect(parseChallenge('Negotiate')).toEqual({ scheme: 'other', params: {} });
    expect(parseChallenge(undefined)).toBeUndefined();
  });
});
