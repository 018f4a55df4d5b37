import type { FastifyInstance } from 'fastify';
import type { Metrics } from '../plugins/metrics.js';

/** One readiness check's answer: ready, or not with a reason a person can act on. */
export type ReadinessResult = boolean | { ok: boolean; reason?: string };

export interface HealthDependencies {
  metrics: Metrics;
  /** Named readiness checks; each resolves to true (or `{ ok: true }`) when that part can serve. */
  readiness: Record<string, () => Promise<ReadinessResult> | ReadinessResult>;
  /** Each upstream's reachability, shown in /readyz's body without deciding readiness. */
  upstreams?: () => Promise<Record<string, unknown>>;
}

export async function healthRoutes(app: FastifyInstance, deps: HealthDependencies): Promise<void> {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    const checks: Record<string, boolean> = {};
    const reasons: Record<string, string> = {};
    await Promise.all(
      Object.entries(deps.readiness).map(async ([name, check]) => {
        let result: ReadinessResult;
        try {
          result = await check();
        } catch (err) {
          result = { ok: false, reason: err instanceof Error ? err.message : 'check failed' };
        }
        const ok = typeof result === 'boolean' ? result : result.ok;
        checks[name] = ok;
        if (!ok) reasons[name] = (typeof result === 'boolean' ? undefined : result.reason) ?? 'not ready';
      }),
    );
    const ready = Object.values(checks).every(Boolean);
    const notReady = Object.keys(reasons).sort();
    const upstreams = await deps.upstreams?.().catch(() => undefined);
    return reply.code(ready ? 200 : 503).send({
      status: ready ? 'ready' : 'not ready',
      checks,
      ...(ready ? {} : { notReady, reasons }),
      ...(upstreams ? { upstreams } : {}),
    });
  });
  app.get('/metrics', async (_request, reply) => {
    const body = await deps.metrics.registry.metrics();
    return reply.type(deps.metrics.registry.contentType).send(body);
  });
}
