import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { Dispatcher } from 'undici';
import { createAuthenticator } from './auth/index.js';
import { UsersDirectory } from './auth/users-directory.js';
import type { Config } from './config/config.js';
import { auditPlugin } from './plugins/audit.js';
import { cachesPlugin } from './plugins/caches.js';
import { judgePlugin } from './plugins/judge.js';
import { metricsPlugin } from './plugins/metrics.js';
import { notifyPlugin } from './plugins/notify.js';
import { closeWithApp } from './plugins/on-close.js';
import { policiesPlugin } from './plugins/policies.js';
import { storePlugin } from './plugins/store.js';
import { tagsPlugin } from './plugins/tags.js';
import { upstreamsPlugin } from './plugins/upstreams.js';
import { exceptionExpiresAt } from './policy/exceptions.js';
import { BlobService } from './pull/blob-service.js';
import { DecisionRecorder } from './pull/record-decision.js';
import type { ManifestGate } from './pull/verdict.js';
import { adminRoutes } from './routes/admin.js';
import { healthRoutes } from './routes/health.js';
import { clientErrorResponse, sendRegistryError } from './routes/registry-error-handler.js';
import { consoleRoutes } from './routes/ui/index.js';
import { v2Routes } from './routes/v2/index.js';
import { Outbox, TagStore } from './store/index.js';
import { SessionStore } from './store/session-store.js';
import { TokenStore } from './store/token-store.js';

export interface AppOverrides {
  logger?: FastifyServerOptions['logger'];
  /** Reach upstreams through this dispatcher (tests with in-process fault servers). */
  dispatcher?: Dispatcher;
  /** Judge manifests with this gate instead of the policy engine. */
  gate?: ManifestGate;
}

/** Builds the whole app from a config; never listens (server.ts does; tests use ephemeral ports). */
export async function buildApp(config: Config, overrides: AppOverrides = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: overrides.logger ?? {
      level: config.logLevel,
      redact: {
        paths: ['req.headers.authorization', 'req.headers.cookie', 'headers.authorization'],
        censor: '[redacted]',
      },
    },
    // HEAD is answered by its own handlers: a HEAD must not fetch a blob body upstream.
    exposeHeadRoutes: false,
    genReqId: () => randomUUID(),
    requestIdHeader: false,
    connectionTimeout: 0,
    return503OnClosing: true,
    // On close, idle keep-alive connections are dropped at once; busy ones finish their response first.
    forceCloseConnections: 'idle',
    trustProxy: false,
    // A URL Fastify cannot decode (`%ZZ`) never reaches a route; answered as an OCI error, like every other error.
    frameworkErrors: (err, request, reply) => {
      sendRegistryError(err, request, reply);
    },
    clientErrorHandler: (err, socket) => {
      if (socket.writable) socket.end(clientErrorResponse(err));
      else socket.destroy(err);
    },
  });
  // Outside /v2 and /admin (their scopes have their own; the /v2 scope's not-found handler answers every unknown
  // path): errors are OCI error bodies too.
  app.setErrorHandler((err, request, reply) => sendRegistryError(err, request, reply));
  // The request id is the decision record's `requestId`: a client (or a support ticket) can name its pull.
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  try {
    // Each plugin owns what it opens and closes it when the app closes, in reverse order of registration (the
    // store last), including when a later one fails to start.
    await app.register(metricsPlugin);
    await app.register(upstreamsPlugin, { config, dispatcher: overrides.dispatcher });
    await app.register(storePlugin, { config });
    await app.register(cachesPlugin, { config });
    await app.register(auditPlugin, { config });
    await app.register(policiesPlugin, { config });
    await app.register(judgePlugin, { config, gate: overrides.gate });
    await app.register(notifyPlugin, { config });
    await app.register(tagsPlugin, { config });
    await routes(app, config);
  } catch (err) {
    await app.close().catch(() => undefined);
    throw err;
  }
  return app;
}

/** The route scopes, each given what it needs from the plugins. */
async function routes(app: FastifyInstance, config: Config): Promise<void> {
  const { store, metrics, caches, upstreams, audit, policies, judge, tags } = app;
  const tagStore = new TagStore(store.db);
  const outbox = new Outbox(store.db);
  metrics.setSources({
    cache: () => caches.blobs.usage,
    openAlerts: () => tagStore.openAlertCounts(),
    outbox: () => outbox.backlog(),
    upstreamUp: () =>
      Object.fromEntries(upstreams.router.all.map((u) => [u.name, upstreams.reachability.current(u.host)])),
  });

  await app.register(healthRoutes, {
    metrics,
    // Reported in the body, never a readiness check: one upstream's outage must not take replicas out of service.
    upstreams: () => upstreams.reachability.report(),
    readiness: {
      upstreamsConfigured: () => upstreams.router.all.length > 0,
      // The engine exists only once a valid policy set loaded (start-up stops otherwise); off is a choice. After a
      // failed reload the last good set still judges, but the files on disk are not in force: an operator must look.
      policies: () => {
        if (policies.engine === undefined) return !config.policyEnabled;
        const last = policies.engine.lastReload;
        if (last === undefined || last.ok) return true;
        return {
          ok: false,
          reason: `the last policy reload failed; version ${last.version} stays in force: ${last.message.slice(0, 500)}`,
        };
      },
      store: async () =>
        (await store.ping()) ? true : { ok: false, reason: `the store (${store.target}) is not answering` },
      decisionLog: () => audit.log.health(),
    },
  });

  const users = await UsersDirectory.create({ file: config.usersFile, logger: app.log, watch: true });
  closeWithApp(app, 'users file', () => users.close());
  const tokens = new TokenStore(store.db);
  await app.register(consoleRoutes, {
    history: tags.history,
    users,
    tokens,
    sessions: new SessionStore(store.db, {
      idleMs: config.session.idleSeconds * 1000,
      absoluteMs: config.session.maxSeconds * 1000,
    }),
    secureCookies: config.publicUrl?.startsWith('https://') === true,
    loginLimit: config.loginLimit,
    recordReview: tags.recordReview,
    decisions: audit.decisions,
    decision: audit.decision,
    policies: () => ({ ...policies.status, set: policies.engine?.current }),
    expiresAt: (expires) => exceptionExpiresAt({ expires } as Parameters<typeof exceptionExpiresAt>[0]),
  });
  await app.register(adminRoutes, {
    history: tags.history,
    token: config.adminToken,
    tokens,
    upstreamName: upstreams.name,
    defaultUpstream: 'docker.io',
    resolveName: (name) => {
      const route = upstreams.router.route(name, undefined);
      return { upstream: route.upstream.host, repository: route.repository };
    },
    onReviewed: tags.recordReview,
    ...(audit.decisions !== undefined
      ? { decisions: audit.decisions, checkpoint: () => audit.log.checkpoint() }
      : {}),
  });

  const recorder = new DecisionRecorder({
    audit: audit.log,
    onRecorded: (facts) => {
      metrics.countDecision(facts);
      const policy = facts.verdict.policy;
      if (facts.verdict.kind === 'warn' && facts.digest !== undefined && policy !== undefined) {
        void app.notify.warnedImages.note({
          upstream: facts.upstream,
          repository: facts.repository,
          reference: facts.reference,
          digest: facts.digest,
          policyVersion: policy.version,
          findings: facts.verdict.findings.map((f) => ({ rule: f.rule, key: f.key })),
        });
      }
    },
    onError: (err, facts) => app.log.error({ err, reqId: facts.requestId }, 'failed to record decision'),
  });
  await app.register(v2Routes, {
    router: upstreams.router,
    pull: {
      manifests: caches.manifests,
      gate: () => judge.gate,
      tags: tags.history,
      recorder,
      storeName: store.target,
      denyOnHead: config.denyOnHead,
    },
    blobs: new BlobService(caches.blobs, { screen: judge.screen, screenMaxBytes: config.configMaxBytes }),
    metrics,
    authenticate: createAuthenticator({
      htpasswdFile: config.htpasswdFile,
      allowAnonymous: config.allowAnonymous,
    }),
  });
}
