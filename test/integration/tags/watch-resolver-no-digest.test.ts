import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ManifestService } from '../../../src/cache/manifest-service.js';
import { upstreamTagResolver } from '../../../src/tags/watch.js';
import type { UpstreamClient } from '../../../src/upstream/client.js';
import { type FaultServer, startFaultServer } from '../../helpers/fault-server.js';
import { MEDIA_TYPE, sha256Digest } from '../../helpers/images.js';
import { upstreamServices } from '../../helpers/upstream-services.js';

// Some registries answer HEAD without Docker-Content-Digest, which a real distribution registry always sends;
// this upstream on a real socket leaves it out.
describe('the watch resolver against an upstream whose HEAD names no digest', () => {
  const body = JSON.stringify({
    schemaVersion: 2,
    mediaType: MEDIA_TYPE.ociManifest,
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256Digest('{}'), size: 2 },
    layers: [],
  });
  let server: FaultServer;
  let upstream: UpstreamClient;
  let manifests: ManifestService;

  beforeAll(async () => {
    server = await startFaultServer((req, res) => {
      res.writeHead(200, {
        'content-type': MEDIA_TYPE.ociManifest,
        'content-length': Buffer.byteLength(body),
      });
      res.end(req.method === 'HEAD' ? undefined : body);
    });
    ({ upstream, manifests } = upstreamServices(server.url, { host: 'nodigest.test', tagTtlSeconds: 60 }));
  });
  afterAll(async () => {
    manifests?.close();
    await upstream?.close();
    await server?.stop();
  });

  it('takes the digest of the bytes a GET returns, and asks again on the next check despite the tag window', async () => {
    const resolve = upstreamTagResolver(manifests);
    const route = { upstream, repository: 'library/plain' };
    const expected = { digest: sha256Digest(body), mediaType: MEDIA_TYPE.ociManifest };
    expect(await resolve(route, '1.2.3', AbortSignal.timeout(5_000))).toEqual(expected);
    expect(await resolve(route, '1.2.3', AbortSignal.timeout(5_000))).toEqual(expected);
    // Each check reached the upstream (the manifest service's tag window did not answer the second one).
    expect(server.requests.filter((r) => r === 'GET /v2/library/plain/manifests/1.2.3')).toHaveLength(2);
    expect(server.requests.every((r) => r.endsWith(' /v2/library/plain/manifests/1.2.3'))).toBe(true);
  });
});
