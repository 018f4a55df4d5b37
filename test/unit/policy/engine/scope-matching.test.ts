import { describe, expect, it } from 'vitest';
import { scopeMatches } from '../../../../src/policy/scope.js';
import { context } from './fixtures.js';

// Scopes select pulls by upstream, repository and tag globs, user name and source network (CIDR).
describe('scope matching', () => {
  it('matches repository, tag and upstream globs', () => {
    const scope = {
      upstreams: ['docker.io'],
      repositories: ['library/*', 'acme/**'],
      tags: ['1.*', '*-slim'],
    };
    expect(scopeMatches(scope, context({ repository: 'library/python', tag: '1.2.3' }))).toBe(true);
    expect(scopeMatches(scope, context({ repository: 'acme/team/app', tag: '3.12-slim' }))).toBe(true);
    expect(scopeMatches(scope, context({ repository: 'library/a/b' }))).toBe(false);
    expect(scopeMatches(scope, context({ repository: 'other/app' }))).toBe(false);
    expect(scopeMatches(scope, context({ tag: 'latest' }))).toBe(false);
    expect(scopeMatches(scope, context({ upstream: 'ghcr.io' }))).toBe(false);
    // A tag scope does not match a pull with no known tag.
    expect(scopeMatches(scope, context({ tag: undefined }))).toBe(false);
    expect(scopeMatches({}, context({ tag: undefined }))).toBe(true);
  });

  it('matches users by exact name; anonymous pulls match no user scope', () => {
    const scope = { clients: { users: ['ci-bot'] } };
    expect(scopeMatches(scope, context({ user: 'ci-bot' }))).toBe(true);
    expect(scopeMatches(scope, context({ user: 'ci-bot2' }))).toBe(false);
    expect(scopeMatches(scope, context({ user: undefined }))).toBe(false);
  });

  it('matches IPv4 and IPv6 networks, and IPv4-mapped IPv6 addresses as IPv4', () => {
    const scope = { clients: { networks: ['10.20.0.0/16', 'fd00:20::/32', '192.0.2.7'] } };
    expect(scopeMatches(scope, context({ address: '10.20.255.1' }))).toBe(true);
    expect(scopeMatches(scope, context({ address: '10.21.0.1' }))).toBe(false);
    expect(scopeMatches(scope, context({ address: '::ffff:10.20.1.1' }))).toBe(true);
    expect(scopeMatches(scope, context({ address: 'fd00:20:1::5' }))).toBe(true);
    expect(scopeMatches(scope, context({ address: 'fd00:21::5' }))).toBe(false);
    expect(scopeMatches(scope, context({ address: '192.0.2.7' }))).toBe(true);
    expect(scopeMatches(scope, context({ address: '192.0.2.8' }))).toBe(false);
    expect(scopeMatches(scope, context({ address: '' }))).toBe(false);
  });

  it('needs every named dimension to match', () => {
    const scope = { repositories: ['acme/*'], clients: { users: ['alice'], networks: ['10.0.0.0/8'] } };
    expect(scopeMatches(scope, context({ repository: 'acme/a', user: 'alice', address: '10.1.1.1' }))).toBe(
      true,
    );
    expect(scopeMatches(scope, context({ repository: 'acme/a', user: 'alice', address: '11.1.1.1' }))).toBe(
      false,
    );
    expect(scopeMatches(scope, context({ repository: 'acme/a', user: 'bob', address: '10.1.1.1' }))).toBe(
      false,
    );
  });
});
