import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { UpstreamObservation } from '../upstream/client.js';

/** Prometheus metrics for one app instance (a registry per app keeps tests' apps apart). */
export class Metrics {
  readonly registry = new Registry();
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
  }

  observeUpstream = (o: UpstreamObservation): void => {
    const status = String(o.status);
    this.upstreamRequests.inc({ upstream: o.upstream, method: o.method, status });
    this.upstreamSeconds.observe({ upstream: o.upstream }, o.seconds);
    if (o.status === 'error' || o.status >= 500) this.upstreamErrors.inc({ upstream: o.upstream });
  };
}
