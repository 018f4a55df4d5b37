import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SeededImages, seedRegistry } from '../../helpers/images.js';
import { type Pullgate, startPullgate } from '../../helpers/pullgate.js';
import { type Registry, startRegistry } from '../../helpers/registry.js';
import { makeTempDir, type TempDir } from '../../helpers/tmp.js';

// A restarted pullgate whose upstream is down answers a tag it has seen from its durable history (with the
// stale Warning) and the manifest from its disk cache.
let upstream: Registry;
let seeded: SeededImages;
let dir: TempDir;
const started: Pullgate[] = [];

beforeAll(async () => {
  upstream = await startRegistry();
  seeded = await seedRegistry(upstream);
  dir = await makeTempDir('stale-restart');
});
afterAll(async () => {
  for (const p of started) await p.stop();
  await upstream?.stop();
  await dir?.cleanup();
});

describe('a tag after a restart with the upstream down', () => {
  it('is served from the tag history with a stale warning', async () => {
    const env = { PULLGATE_UPSTREAM: upstream.url, PULLGATE_TAG_TTL: '0' };
    const first = await startPullgate({ env, dataDir: dir.path });
    started.push(first);
    const warm = await fetch(`${first.url}/v2/library/app/manifests/nonroot`);
    expect(warm.status).toBe(200);
    await warm.arrayBuffer();
    await first.app.close();

    await upstream.stop();
    const second = await startPullgate({ env, dataDir: dir.path });
    started.push(second);
    const res = await fetch(`${second.url}/v2/library/app/manifests/nonroot`);
    expect(res.status).toBe(200);
    expect(res.headers.get('docker-content-digest')).toBe(seeded.digests.nonroot);
    expect(res.headers.get('warning')).toMatch(/^299 - "upstream unavailable/);
    const unknown = await fetch(`${second.url}/v2/library/app/manifests/never-pulled`);
    expect(unknown.status).toBe(502);
  });
});
