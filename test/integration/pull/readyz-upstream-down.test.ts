import { describe, expect, it } from 'vitest';
import { useSeededPullgate } from '../../helpers/seeded-pullgate.js';

// /readyz says which upstream does not answer, in its body, while staying ready: the cache and the other
// upstreams still serve, and one registry's outage must not take every replica out of the load balancer.
const setup = useSeededPullgate({ PULLGATE_TAG_TTL: '0' });

interface Ready {
  status: string;
  upstreams: Record<string, { registry: string; reachable: boolean; source: string; cause?: string }>;
}

const ready = async () => {
  const res = await fetch(`${setup.pullgate.url}/readyz`);
  return { status: res.status, body: (await res.json()) as Ready };
};

describe('/readyz and an upstream outage', () => {
  it('reports the upstream reachable, by its own host, while it answers', async () => {
    const { status, body } = await ready();
    expect(status).toBe(200);
    expect(body.upstreams['docker.io']).toMatchObject({ registry: setup.upstream.host, reachable: true });
  });

  it('stays ready and names the unreachable upstream once a real request failed', async () => {
    await setup.upstream.stop();
    expect((await fetch(`${setup.pullgate.url}/v2/library/app/manifests/nonroot`)).status).toBe(502);
    const { status, body } = await ready();
    expect(status).toBe(200);
    expect(body.status).toBe('ready');
    expect(body.upstreams['docker.io']).toMatchObject({
      registry: setup.upstream.host,
      reachable: false,
      source: 'request',
    });
    const metrics = await (await fetch(`${setup.pullgate.url}/metrics`)).text();
    expect(metrics).toContain(`pullgate_upstream_up{upstream="${setup.upstream.host}"} 0`);
  });
});
