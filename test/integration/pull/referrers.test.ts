import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FaultServer, startFaultServer } from '../../helpers/fault-server.js';
import { type Pullgate, startPullgate } from '../../helpers/pullgate.js';
import { useSeededPullgate } from '../../helpers/seeded-pullgate.js';

// The referrers API (distribution-spec v1.1) passes through: a registry that has it answers an index; one that
// does not (distribution 2.8) answers 404, which tells clients such as cosign and oras to fall back to tags.
const setup = useSeededPullgate();
let modern: FaultServer;
let modernProxy: Pullgate;
const index = JSON.stringify({
  schemaVersion: 2,
  mediaType: 'application/vnd.oci.image.index.v1+json',
  manifests: [],
});

beforeAll(async () => {
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
});

describe('referrers', () => {
  it('answers 404 where the upstream has no referrers API', async () => {
    const res = await fetch(`${setup.pullgate.url}/v2/library/app/referrers/${setup.seeded.digests.nonroot}`);
    expect(res.status).toBe(404);
    await res.arrayBuffer();
  });

  it('passes an upstream index through with its query', async () => {
    const digest = setup.seeded.digests.nonroot;
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
