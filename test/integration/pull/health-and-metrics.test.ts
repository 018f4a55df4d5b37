import { describe, expect, it } from 'vitest';
import { useSeededPullgate } from '../../helpers/seeded-pullgate.js';

const setup = useSeededPullgate();

describe('health and metrics', () => {
  it('reports alive and ready', async () => {
    expect((await fetch(`${setup.pullgate.url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${setup.pullgate.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(((await ready.json()) as { status: string }).status).toBe('ready');
  });

  it('counts requests, upstream requests and bytes served in Prometheus format', async () => {
    const res = await fetch(`${setup.pullgate.url}/v2/app/manifests/nonroot`);
    await res.arrayBuffer();
    const metrics = await (await fetch(`${setup.pullgate.url}/metrics`)).text();
    expect(metrics).toMatch(
      /pullgate_http_requests_total\{route="\/v2\/\*",method="GET",status="200"\} [1-9]/,
    );
    // The local default upstream is labelled by its own host, not docker.io (issue 17, "Names").
    expect(metrics).toContain(
      `pullgate_upstream_requests_total{upstream="${setup.upstream.host}",method="HEAD",status="200"}`,
    );
    expect(metrics).toMatch(
      /pullgate_bytes_served_total\{kind="manifest",source="(?:upstream|cache)"\} [1-9]/,
    );
    expect(metrics).toMatch(/pullgate_upstream_request_duration_seconds_bucket/);
  });
});
