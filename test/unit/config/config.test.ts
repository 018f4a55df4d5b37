import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../src/config/config.js';

// Configuration errors name where the bad value came from and what is wrong with it.
describe('loadConfig', () => {
  it('defaults to Docker Hub on 0.0.0.0:5000', () => {
    const config = loadConfig({}, '/srv');
    expect(config.listen).toEqual({ host: '0.0.0.0', port: 5000 });
    expect(config.defaultUpstream.url).toBe('https://registry-1.docker.io');
    expect(config.defaultUpstream.libraryPrefix).toBe(true);
    expect(config.dataDir).toBe('/srv/data');
    expect(config.adminToken).toBeUndefined();
  });

  it.each([
    [{ PULLGATE_LISTEN: 'nonsense' }, /PULLGATE_LISTEN.*host:port/],
    [{ PULLGATE_UPSTREAM: 'ftp://x' }, /PULLGATE_UPSTREAM/],
    [{ PULLGATE_TAG_TTL: '-3' }, /PULLGATE_TAG_TTL/],
    [{ PULLGATE_DATABASE_URL: 'mysql://x' }, /PULLGATE_DATABASE_URL.*postgres/],
    [{ PULLGATE_UPSTREAM_USERNAME: 'u' }, /PULLGATE_UPSTREAM_USERNAME and PULLGATE_UPSTREAM_PASSWORD/],
    [{ PULLGATE_CONFIG: '/nonexistent/pullgate.yaml' }, /\/nonexistent\/pullgate.yaml: cannot read/],
    [{ PULLGATE_UPSTREAM_HEADERS_TIMEOUT: '0' }, /PULLGATE_UPSTREAM_HEADERS_TIMEOUT/],
    [{ PULLGATE_UPSTREAM_BODY_TIMEOUT: 'soon' }, /PULLGATE_UPSTREAM_BODY_TIMEOUT/],
  ])('rejects %j', (env, message) => {
    expect(() => loadConfig(env as NodeJS.ProcessEnv, '/srv')).toThrowError(ConfigError);
    expect(() => loadConfig(env as NodeJS.ProcessEnv, '/srv')).toThrowError(message);
  });

  it('reads the upstream timeouts in seconds from PULLGATE_UPSTREAM_{CONNECT,HEADERS,BODY}_TIMEOUT', () => {
    expect(loadConfig({}, '/srv').upstreamTimeouts).toEqual({
      connectMs: 10_000,
      headersMs: 30_000,
      bodyMs: 60_000,
    });
    const config = loadConfig(
      {
        PULLGATE_UPSTREAM_CONNECT_TIMEOUT: '2',
        PULLGATE_UPSTREAM_HEADERS_TIMEOUT: '7.5',
        PULLGATE_UPSTREAM_BODY_TIMEOUT: '300',
      },
      '/srv',
    );
    expect(config.upstreamTimeouts).toEqual({ connectMs: 2000, headersMs: 7500, bodyMs: 300_000 });
  });

  it('names the default upstream docker.io only when it is Docker Hub', () => {
    expect(loadConfig({}, '/srv').defaultUpstream.name).toBe('docker.io');
    const local = loadConfig({ PULLGATE_UPSTREAM: 'http://127.0.0.1:15001' }, '/srv').defaultUpstream;
    expect(local).toMatchObject({ host: 'docker.io', name: '127.0.0.1:15001' });
  });

  it('reads extra upstreams with credentials from the environment, never echoing them', () => {
    const config = loadConfig(
      {
        PULLGATE_UPSTREAMS: 'ghcr.io=https://ghcr.io,quay.io=https://quay.io/',
        PULLGATE_UPSTREAM_GHCR_IO_USERNAME: 'bot',
        PULLGATE_UPSTREAM_GHCR_IO_PASSWORD: 's3cret-value',
      },
      '/srv',
    );
    expect(config.upstreams.map((u) => [u.host, u.url])).toEqual([
      ['ghcr.io', 'https://ghcr.io'],
      ['quay.io', 'https://quay.io'],
    ]);
    expect(config.upstreams[0]?.credentials).toEqual({ username: 'bot', password: 's3cret-value' });
    expect(() =>
      loadConfig({ PULLGATE_UPSTREAMS: 'ghcr.io=https://a,ghcr.io=https://b' }, '/srv'),
    ).toThrowError(/twice/);
  });
});
