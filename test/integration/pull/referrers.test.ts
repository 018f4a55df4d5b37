import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FaultServer, startFaultServer } from '../../helpers/fault-server.js';
import { type SeededImages, seedRegistry } from '../../helpers/images.js';
import { type Pullgate, startPullgate } from '../../helpers/pullgate.js';
import { type Registry, startRegistry } from '../../helpers/registry.js';

// The referrers API (distribution-spec v1.1) passes through: a registry that has it answers an index; one that
// does not (distribution 2.8) answers 404, which tells clients such as cosign and oras to fall back to tags.
let upstream: Registry;
let seeded: SeededImages;
let pullgate: Pullgate;
let modern: FaultServer;
let modernProxy: Pullgate;
const index = JSON.stringify({
  schemaVersion: 2,
  mediaType: 'application/vnd.oci.image.index.v1+json',
  manifests: [],
});

beforeAll(async () => {
  upstream = await startRegistry();
  seeded = await seedRegistry(upstream);
  pullgate = await startPullgate({ env: { PULLGATE_UPSTREAM: upstream.url } });
  // A registry with the referrers API is played here; distribution 2.8 does not have it.
  modern = await startFaultServer((req, res) => {
    if (req.url?.includes('/referrers/') === true) {
      res.writeHead(200, {
        'content-type': 'application/vnd.oci.image.index.v1+json',
        'oci-filters-applied': 'artifactType',
      });
      res.end(index);
      return;
    }
    res.writeHead(404);
    res.end();
  });
  modernProxy = await startPullgate({ env: { PULLGATE_UPSTREAM: modern.url } });
});
afterAll(async () => {
  await modernProxy?.stop();
  await modern?.stop();
  await pullgate?.stop();
  await upstream?.stop();
});

describe('referrers', () => {
  it('answers 404 where the upstream has no referrers API', async () => {
    const res = await fetch(`${pullgate.url}/v2/library/app/referrers/${seeded.digests.nonroot}`);
    expect(res.status).toBe(404);
    await res.arrayBuffer();
  });

  it('passes an upstream index through with its query', async () => {
    const digest = seeded.digests.nonroot;
    const res = await fetch(
      `${modernProxy.url}/v2/library/app/referrers/${digest}?artifactType=application%2Fexample`,
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/vnd.oci.image.index.v1+json');
    expect(await res.text()).toBe(index);
    expect(modern.requests).toContain(
      `GET /v2/library/app/referrers/${digest}?artifactType=application%2Fexample`,
    );
  });
});
