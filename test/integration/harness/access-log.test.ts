import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pushImage, testImages } from '../../helpers/images.js';
import { parseAccessLog, type Registry, startRegistry } from '../../helpers/registry.js';

// accessLog() turns the registry's combined-format log lines into method, path and status.
describe('Registry.accessLog', () => {
  let registry: Registry;

  beforeAll(async () => {
    registry = await startRegistry();
  });
  afterAll(async () => {
    await registry?.stop();
  });

  it('sees a request with its method, path, query and status', async () => {
    const res = await fetch(`${registry.url}/v2/library/app/manifests/missing?ns=docker.io`, {
      method: 'HEAD',
      headers: { 'user-agent': 'harness-probe/1' },
    });
    expect(res.status).toBe(404);
    const entries = await registry.waitForAccess((e) => e.userAgent === 'harness-probe/1');
    expect(entries.find((e) => e.userAgent === 'harness-probe/1')).toEqual({
      method: 'HEAD',
      path: '/v2/library/app/manifests/missing',
      uri: '/v2/library/app/manifests/missing?ns=docker.io',
      status: 404,
      userAgent: 'harness-probe/1',
    });
  });

  it('sees the blob and manifest uploads of a skopeo push', async () => {
    const layout = await testImages();
    await pushImage(layout.dir, 'nonroot', registry, 'library/app', 'nonroot');
    const entries = await registry.waitForAccess(
      (e) => e.method === 'PUT' && e.path === '/v2/library/app/manifests/nonroot',
    );
    expect(
      entries.find((e) => e.path === '/v2/library/app/manifests/nonroot' && e.method === 'PUT')?.status,
    ).toBe(201);
    expect(
      entries.some((e) => e.method === 'PUT' && e.path.startsWith('/v2/library/app/blobs/uploads/')),
    ).toBe(true);
  });

  it('ignores the application log lines around the access lines', () => {
    const text = [
      'time="2026-11-26T15:49:30Z" level=info msg="response completed" http.request.method=GET',
      '127.0.0.1 - - [26/Nov/2026:15:49:30 +0000] "GET /v2/ HTTP/1.1" 200 2 "" "curl/7.88.1"',
      '',
    ].join('\n');
    expect(parseAccessLog(text)).toEqual([
      { method: 'GET', path: '/v2/', uri: '/v2/', status: 200, userAgent: 'curl/7.88.1' },
    ]);
  });
});
