import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SeededImages, seedRegistry } from '../../helpers/images.js';
import { type Pullgate, startPullgate } from '../../helpers/pullgate.js';
import { type Registry, startRegistry } from '../../helpers/registry.js';

// A tag's resolution is trusted for PULLGATE_TAG_TTL seconds and then re-checked with HEAD; 0 asks every time.
let upstream: Registry;
let seeded: SeededImages;
const started: Pullgate[] = [];

beforeAll(async () => {
  upstream = await startRegistry();
  seeded = await seedRegistry(upstream);
});
afterAll(async () => {
  for (const p of started) await p.stop();
  await upstream?.stop();
});

async function tagRequestsUpstream(): Promise<{ head: number; get: number }> {
  await new Promise((r) => setTimeout(r, 150));
  const log = await upstream.accessLog();
  const byTag = log.filter((e) => e.path === `/v2/${seeded.repo}/manifests/nonroot`);
  return {
    head: byTag.filter((e) => e.method === 'HEAD').length,
    get: byTag.filter((e) => e.method === 'GET').length,
  };
}

describe('tag resolution window', () => {
  it('asks the upstream once within the window, with HEAD and never GET by tag', async () => {
    const pullgate = await startPullgate({
      env: { PULLGATE_UPSTREAM: upstream.url, PULLGATE_TAG_TTL: '60' },
    });
    started.push(pullgate);
    const before = await tagRequestsUpstream();
    for (let i = 0; i < 10; i++) {
      const res = await fetch(`${pullgate.url}/v2/app/manifests/nonroot`);
      expect(res.headers.get('docker-content-digest')).toBe(seeded.digests.nonroot);
      await res.arrayBuffer();
    }
    const after = await tagRequestsUpstream();
    expect(after.head - before.head).toBe(1);
    expect(after.get - before.get).toBe(0);
  });

  it('asks every time with a window of 0', async () => {
    const pullgate = await startPullgate({ env: { PULLGATE_UPSTREAM: upstream.url, PULLGATE_TAG_TTL: '0' } });
    started.push(pullgate);
    const before = await tagRequestsUpstream();
    for (let i = 0; i < 5; i++) {
      const res = await fetch(`${pullgate.url}/v2/app/manifests/nonroot`, { method: 'HEAD' });
      expect(res.status).toBe(200);
    }
    const after = await tagRequestsUpstream();
    expect(after.head - before.head).toBe(5);
  });
});
