import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../src/config/config.js';

describe('PULLGATE_REPLICA_ID', () => {
  it('defaults to the host name', () => {
    expect(loadConfig({}, '/srv').replicaId).toBe(hostname());
  });

  it('names the replica in the index and in its log origin, unless PULLGATE_AUDIT_ORIGIN says otherwise', () => {
    const config = loadConfig({ PULLGATE_REPLICA_ID: 'pullgate-2' }, '/srv');
    expect(config.replicaId).toBe('pullgate-2');
    expect(config.audit.origin).toBe('pullgate/pullgate-2/decisions');
    expect(
      loadConfig({ PULLGATE_REPLICA_ID: 'pullgate-2', PULLGATE_AUDIT_ORIGIN: 'x.example/log' }, '/srv').audit
        .origin,
    ).toBe('x.example/log');
  });

  it('refuses an id with a separator or a space, naming the variable', () => {
    for (const bad of ['a/b', 'a b', '', '-x']) {
      expect(() => loadConfig({ PULLGATE_REPLICA_ID: bad }, '/srv')).toThrowError(ConfigError);
      expect(() => loadConfig({ PULLGATE_REPLICA_ID: bad }, '/srv')).toThrowError(/PULLGATE_REPLICA_ID/);
    }
  });
});
