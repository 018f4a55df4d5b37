import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ManifestService } from '../../../src/cache/manifest-service.js';
import { openStore, type Store } from '../../../src/store/open.js';
import { TagHistory } from '../../../src/tags/history.js';
import { TagWatcher, upstreamTagResolver } from '../../../src/tags/watch.js';
import type { UpstreamClient } from '../../../src/upstream/client.js';
import { UpstreamError } from '../../../src/upstream/errors.js';
import { type FaultServer, startFaultServer } from '../../helpers/fault-server.js';
import { makeTempDir, type TempDir } from '../../helpers/tmp.js';
import { upstreamServices } from '../../helpers/upstream-services.js';
import { describeFrom, digest, image, observation } from './fixtures.js';

// A real registry does not rate-limit; this upstream on a real socket answers every manifest HEAD with 429 and a
// Retry-After, as Docker Hub does past its limit.
describe('the watcher against an upstream that answers 429', () => {
  let dir: TempDir;
  let store: Store;
  let server: FaultServer;
  let upstream: UpstreamClient;
  let manifests: ManifestService;
  const a = digest(81);

  beforeAll(async () => {
    [dir, server] = await Promise.all([
      makeTempDir('watch-429'),
      startFaultServer((_req, res) => {
        res.writeHead(429, { 'retry-after': '120', 'content-type': 'application/json' });
        res.end();
      }),
    ]);
    store = await openStore({ dataDir: dir.path });
    ({ upstream, manifests } = upstreamServices(server.url, { host: 'hub.test' }));
    const history = new TagHistory({ store, describe: describeFrom(new Map([[a, image(a)]])) });
    for (const tag of ['5.0.0', '5.0.1']) {
      await history.observe(
        observation({ upstream, repository: 'library/web' }, tag, a),
        AbortSignal.timeout(10_000),
      );
    }
  });
  afterAll(async () => {
    manifests?.close();
    await upstream?.close();
    await server?.stop();
    await store?.close();
    await dir?.cleanup();
  });

  it('asks once with HEAD, then leaves the upstream alone for as long as its Retry-After says', async () => {
    const now = Date.parse('2025-06-01T00:00:00Z');
    const errors: unknown[] = [];
    const watcher = new TagWatcher({
      store,
      history: new TagHistory({ store, describe: describeFrom(new Map()) }),
      now: () => new Date(now),
      random: () => 0.5,
      intervalSeconds: 30,
      concurrency: 1,
      routeFor: (host, repository) => (host === upstream.host ? { upstream, repository } : undefined),
      resolve: upstreamTagResolver(manifests),
      onError: (err) => errors.push(err),
    });

    expect(await watcher.runOnce()).toEqual({ checked: 0, moved: 0, errors: 1, skipped: 1 });
    expect(server.requests).toHaveLength(1);
    expect(server.requests[0]).toMatch(/^HEAD \/v2\/library\/web\/manifests\/5\.0\.[01]$/);
    expect(errors[0]).toBeInstanceOf(UpstreamError);
    expect(errors[0]).toMatchObject({ failure: 'rate-limited' });
    expect(watcher.backoffFor('hub.test')).toEqual({ multiplier: 2, blockedUntilMs: now + 120_000 });

    expect(await watcher.runOnce()).toEqual({ checked: 0, moved: 0, errors: 0, skipped: 2 });
    expect(server.requests).toHaveLength(1);
  });
});
