import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { useSeededPullgate } from '../../helpers/seeded-pullgate.js';

// /metrics answers what an operator asks first: what was refused and why, how the cache does, whether the
// upstream answers, what is waiting for a reviewer or a webhook receiver (issue 17, "Observability").
const setup = useSeededPullgate();

const metrics = async () => (await fetch(`${setup.pullgate.url}/metrics`)).text();

/** The value of one series, `undefined` when absent. */
function value(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('/metrics', () => {
  it('counts decisions by outcome and findings by rule and mode', async () => {
    await (await fetch(`${setup.pullgate.url}/v2/library/app/manifests/root`)).arrayBuffer();
    await (await fetch(`${setup.pullgate.url}/v2/library/app/manifests/nonroot`)).arrayBuffer();
    const text = await metrics();
    expect(value(text, 'pullgate_decisions_total{decision="deny",method="GET",status="403"}')).toBe(1);
    expect(value(text, 'pullgate_decisions_total{decision="allow",method="GET",status="200"}')).toBe(1);
    expect(value(text, 'pullgate_decision_findings_total{rule="run-as-root",mode="enforce"}')).toBe(1);
  });

  it('reports cache misses, hits, size and evictions', async () => {
    const manifest = (await (
      await fetch(`${setup.pullgate.url}/v2/library/app/manifests/nonroot`, {
        headers: { accept: 'application/vnd.oci.image.manifest.v1+json' },
      })
    ).json()) as { layers: { digest: string }[] };
    const layer = manifest.layers[0]?.digest ?? '';
    for (let i = 0; i < 2; i++) {
      const bytes = Buffer.from(
        await (await fetch(`${setup.pullgate.url}/v2/library/app/blobs/${layer}`)).arrayBuffer(),
      );
      expect(`sha256:${createHash('sha256').update(bytes).digest('hex')}`).toBe(layer);
    }
    const text = await metrics();
    expect(value(text, 'pullgate_cache_blob_requests_total{result="miss"}')).toBe(1);
    expect(value(text, 'pullgate_cache_blob_requests_total{result="hit"}')).toBe(1);
    expect(value(text, 'pullgate_cache_bytes')).toBeGreaterThan(0);
    expect(value(text, 'pullgate_cache_evictions_total')).toBe(0);
  });

  it('reports open alerts by severity, the webhook backlog and upstream reachability', async () => {
    const text = await metrics();
    for (const severity of ['info', 'low', 'medium', 'high', 'critical'])
      expect(value(text, `pullgate_alerts_open{severity="${severity}"}`)).toBe(0);
    expect(value(text, 'pullgate_webhook_outbox_pending{state="pending"}')).toBe(0);
    expect(value(text, 'pullgate_webhook_outbox_pending{state="failing"}')).toBe(0);
    expect(value(text, `pullgate_upstream_up{upstream="${setup.upstream.host}"}`)).toBe(1);
  });
});
