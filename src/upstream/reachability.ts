import type { UpstreamClient, UpstreamObservation } from './client.js';

export interface Reachability {
  /** How people know the registry (the default upstream by its own host unless it is Docker Hub). */
  registry: string;
  reachable: boolean;
  /** `request`: the outcome of pullgate's last real request to it; `probe`: a `GET /v2/` made for this report. */
  source: 'request' | 'probe';
  at: string;
  /** Why it was unreachable: an HTTP status or a transport error code. */
  cause?: string;
}

export interface ReachabilityOptions {
  /** A request outcome older than this is refreshed by a probe when a report is asked for. */
  freshMs?: number;
  probeTimeoutMs?: number;
  now?: () => number;
}

interface Known {
  reachable: boolean;
  source: 'request' | 'probe';
  at: number;
  cause?: string;
}

/**
 * Whether each upstream answers, for /readyz and /metrics: taken from the last real request to it (any HTTP answer
 * below 500 is an answer, a 401 included), or, when nothing was asked lately, from one cheap `GET /v2/` probe,
 * shared by concurrent reports. It never decides readiness: one upstream's outage must not take every replica out
 * of the load balancer, when the cache and the other upstreams still serve.
 */
export class UpstreamReachability {
  private readonly known = new Map<string, Known>();
  private readonly probes = new Map<string, Promise<void>>();
  private readonly freshMs: number;
  private readonly probeTimeoutMs: number;
  private readonly now: () => number;

  constructor(
    private readonly upstreams: () => readonly UpstreamClient[],
    options: ReachabilityOptions = {},
  ) {
    this.freshMs = options.freshMs ?? 60_000;
    this.probeTimeoutMs = options.probeTimeoutMs ?? 3_000;
    this.now = options.now ?? Date.now;
  }

  /** Fed with every upstream request's outcome (the metrics observer). */
  observe = (o: UpstreamObservation): void => {
    const reachable = o.status !== 'error' && o.status < 500;
    this.known.set(o.upstream, {
      reachable,
      source: 'request',
      at: this.now(),
      ...(reachable ? {} : { cause: String(o.status) }),
    });
  };

  /** The last known state, without probing (for metrics scrapes). */
  current(host: string): boolean | undefined {
    return this.known.get(host)?.reachable;
  }

  async report(): Promise<Record<string, Reachability>> {
    const upstreams = this.upstreams();
    await Promise.all(
      upstreams.map((u) => {
        const k = this.known.get(u.host);
        return k !== undefined && this.now() - k.at < this.freshMs ? undefined : this.probe(u);
      }),
    );
    const out: Record<string, Reachability> = {};
    for (const u of upstreams) {
      const k = this.known.get(u.host);
      if (k === undefined) continue;
      out[u.host] = {
        registry: u.name,
        reachable: k.reachable,
        source: k.source,
        at: new Date(k.at).toISOString(),
        ...(k.cause !== undefined ? { cause: k.cause } : {}),
      };
    }
    return out;
  }

  private probe(upstream: UpstreamClient): Promise<void> {
    let pending = this.probes.get(upstream.host);
    if (pending === undefined) {
      pending = this.runProbe(upstream).finally(() => this.probes.delete(upstream.host));
      this.probes.set(upstream.host, pending);
    }
    return pending;
  }

  private async runProbe(upstream: UpstreamClient): Promise<void> {
    let known: Known;
    try {
      const res = await upstream.request({
        method: 'GET',
        path: '/v2/',
        signal: AbortSignal.timeout(this.probeTimeoutMs),
      });
      await res.body.dump();
      known = {
        reachable: res.status < 500,
        source: 'probe',
        at: this.now(),
        ...(res.status < 500 ? {} : { cause: String(res.status) }),
      };
    } catch (err) {
      // A mapped transport error names its cause (ECONNREFUSED, UND_ERR_CONNECT_TIMEOUT); the probe's own
      // timeout is an abort.
      const e = err as { detail?: { cause?: unknown }; name?: unknown } | null;
      const cause = typeof e?.detail?.cause === 'string' ? e.detail.cause : String(e?.name ?? 'error');
      known = { reachable: false, source: 'probe', at: this.now(), cause };
    }
    this.known.set(upstream.host, known);
  }
}
