import fp from 'fastify-plugin';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { DecisionFacts } from '../pull/decision-record.js';
import type { Severity } from '../store/schema.js';
import type { UpstreamObservation } from '../upstream/client.js';

/** What the app reads at scrape time, for gauges whose truth lives elsewhere (the store, the cache). */
export interface MetricSources {
  cache: () => { bytes: number; blobs: number; evictions: number };
  /** Open alerts per severity, from the store (shared by every replica on PostgreSQL). */
  openAlerts: () => Promise<Partial<Record<Severity, number>>>;
  /** Webhook deliveries not yet taken, and of those how many have failed at least once. */
  outbox: () => Promise<{ pending: number; failing: number }>;
  /**
   * By registry name: 1 when the upstream answered pullgate's last request to it, 0 when it did not; absent
   * when never asked.
   */
  upstreamUp: () => Record<string, boolean | undefined>;
}

/** Prometheus metrics for one app instance (a registry per app keeps tests' apps apart). */
export class Metrics {
  readonly registry = new Registry();
  private sources: MetricSources | undefined;
  readonly requests = new Counter({
    name: 'pullgate_http_requests_total',
    help: 'Client requests by route, method and status',
    labelNames: ['route', 'method', 'status'] as const,
    registers: [this.registry],
  });
  readonly requestSeconds = new Histogram({
    name: 'pullgate_http_request_duration_seconds',
    help: 'Client request latency by route (time to the end of the response)',
    labelNames: ['route', 'method'] as const,
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120],
    registers: [this.registry],
  });
  readonly upstreamRequests = new Counter({
    name: 'pullgate_upstream_requests_total',
    help: 'Requests pullgate made to upstream registries, by upstream, method and status (error = no answer)',
    labelNames: ['upstream', 'method', 'status'] as const,
    registers: [this.registry],
  });
  readonly upstreamErrors = new Counter({
    name: 'pullgate_upstream_errors_total',
    help: 'Upstream requests that failed without an HTTP answer or with a 5xx',
    labelNames: ['upstream'] as const,
    registers: [this.registry],
  });
  readonly upstreamSeconds = new Histogram({
    name: 'pullgate_upstream_request_duration_seconds',
    help: 'Upstream latency to response headers, by upstream',
    labelNames: ['upstream'] as const,
    buckets: [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30],
    registers: [this.registry],
  });
  readonly bytesServed = new Counter({
    name: 'pullgate_bytes_served_total',
    help: 'Body bytes sent to clients, by kind (manifest, blob) and source (cache, upstream)',
    labelNames: ['kind', 'source'] as const,
    registers: [this.registry],
  });
  readonly decisions = new Counter({
    name: 'pullgate_decisions_total',
    help: 'Manifest decisions recorded, by decision (allow, warn, deny), method and the status the client got',
    labelNames: ['decision', 'method', 'status'] as const,
    registers: [this.registry],
  });
  readonly findings = new Counter({
    name: 'pullgate_decision_findings_total',
    help: 'Rule findings in recorded decisions, by rule and mode (enforce: refused; audit: served with a warning)',
    labelNames: ['rule', 'mode'] as const,
    registers: [this.registry],
  });
  readonly blobRequests = new Counter({
    name: 'pullgate_cache_blob_requests_total',
    help: 'Blob GETs by result: hit (served from the disk cache) or miss (filled from upstream)',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  readonly webhookDeliveries = new Counter({
    name: 'pullgate_webhook_deliveries_total',
    help: 'Webhook delivery attempts by outcome (delivered, failed: retried with backoff)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly policyReloads = new Counter({
    name: 'pullgate_policy_reloads_total',
    help: 'Policy reload attempts by outcome (loaded, failed); a failed reload keeps the last good set in force',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly policyReloadHealthy = new Gauge({
    name: 'pullgate_policy_last_reload_success',
    help: '1 when the last policy load or reload succeeded, 0 when it failed (the files on disk are not in force)',
    registers: [this.registry],
  });
  readonly webhookFailures = new Counter({
    name: 'pullgate_webhook_delivery_failures_total',
    help: 'Webhook delivery attempts that failed (each is retried), by event',
    labelNames: ['event'] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'pullgate_' });
    const sources = () => this.sources;
    new Gauge({
      name: 'pullgate_cache_bytes',
      help: 'Bytes of blobs in the disk cache',
      registers: [this.registry],
      collect() {
        const s = sources();
        if (s !== undefined) this.set(s.cache().bytes);
      },
    });
    new Gauge({
      name: 'pullgate_cache_blobs',
      help: 'Blobs in the disk cache',
      registers: [this.registry],
      collect() {
        const s = sources();
        if (s !== undefined) this.set(s.cache().blobs);
      },
    });
    new Counter({
      name: 'pullgate_cache_evictions_total',
      help: 'Blobs evicted from the disk cache (least recently used beyond PULLGATE_CACHE_MAX_BYTES)',
      registers: [this.registry],
      collect() {
        const s = sources();
        if (s === undefined) return;
        // A counter read from the store's own tally: reset to it, so the exported value is the tally.
        this.reset();
        this.inc(s.cache().evictions);
      },
    });
    new Gauge({
      name: 'pullgate_alerts_open',
      help: 'Open tag-mutation alerts by severity (from the store: every replica reports the same)',
      labelNames: ['severity'] as const,
      registers: [this.registry],
      async collect() {
        const s = sources();
        if (s === undefined) return;
        // A store that cannot answer leaves the last values: the scrape itself must not fail.
        const open = await s.openAlerts().catch(() => undefined);
        if (open === undefined) return;
        for (const severity of ['info', 'low', 'medium', 'high', 'critical'] as const)
          this.set({ severity }, open[severity] ?? 0);
      },
    });
    new Gauge({
      name: 'pullgate_webhook_outbox_pending',
      help: 'Webhook deliveries not yet taken by their receiver; failing: of those, the ones already retried',
      labelNames: ['state'] as const,
      registers: [this.registry],
      async collect() {
        const s = sources();
        if (s === undefined) return;
        const outbox = await s.outbox().catch(() => undefined);
        if (outbox === undefined) return;
        this.set({ state: 'pending' }, outbox.pending);
        this.set({ state: 'failing' }, outbox.failing);
      },
    });
    new Gauge({
      name: 'pullgate_upstream_up',
      help: "1 when the upstream answered pullgate's last request to it (any status below 500), else 0",
      labelNames: ['upstream'] as const,
      registers: [this.registry],
      collect() {
        const s = sources();
        if (s === undefined) return;
        for (const [upstream, up] of Object.entries(s.upstreamUp())) {
          if (up !== undefined) this.set({ upstream }, up ? 1 : 0);
        }
      },
    });
  }

  /** Wired once the parts the gauges read exist (the store opens after the metrics are created). */
  setSources(sources: MetricSources): void {
    this.sources = sources;
  }

  observeUpstream = (o: UpstreamObservation): void => {
    const status = String(o.status);
    // Labelled by the registry's own name (the default upstream's host unless it is Docker Hub).
    this.upstreamRequests.inc({ upstream: o.registry, method: o.method, status });
    this.upstreamSeconds.observe({ upstream: o.registry }, o.seconds);
    if (o.status === 'error' || o.status >= 500) this.upstreamErrors.inc({ upstream: o.registry });
  };

  /** Counted once recorded, so the metrics agree with the log: audit-mode findings show as mode="audit". */
  countDecision(facts: DecisionFacts): void {
    this.decisions.inc({ decision: facts.verdict.kind, method: facts.method, status: String(facts.status) });
    for (const f of facts.verdict.findings) this.findings.inc({ rule: f.rule, mode: f.mode ?? 'enforce' });
  }
}

declare module 'fastify' {
  interface FastifyInstance {
    metrics: Metrics;
  }
}

/** The app's Prometheus registry, and the request counters every route shares. */
export const metricsPlugin = fp(
  async (app) => {
    const metrics = new Metrics();
    app.decorate('metrics', metrics);
    app.addHook('onResponse', async (request, reply) => {
      const route = request.routeOptions.url ?? 'unmatched';
      metrics.requests.inc({ route, method: request.method, status: String(reply.statusCode) });
      metrics.requestSeconds.observe({ route, method: request.method }, reply.elapsedTime / 1000);
    });
    // A client that closes its connection before the response has finished (mid-blob, or right after the last
    // bytes) gets no onResponse; it is counted here so every request shows in the metrics.
    app.addHook('onRequestAbort', async (request) => {
      const route = request.routeOptions.url ?? 'unmatched';
      metrics.requests.inc({ route, method: request.method, status: 'aborted' });
    });
  },
  { name: 'metrics' },
);
