import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { Dispatcher } from 'undici';
import { type AuditSink, type DecisionFilters, InvalidQueryError, openAuditLog } from './audit/index.js';
import { AuditIndexer } from './audit/indexer.js';
import { createAuthenticator } from './auth/index.js';
import type { Principal } from './auth/principal.js';
import { UsersDirectory } from './auth/users-directory.js';
import { BlobStore } from './cache/blob-store.js';
import { ConfigFetcher } from './cache/config-fetcher.js';
import { ManifestCache } from './cache/manifest-cache.js';
import { ManifestService } from './cache/manifest-service.js';
import type { Config } from './config/config.js';
import { CheckpointPublisher, Notifier } from './notify/index.js';
import { WarnedImageNotices } from './notify/warned-images.js';
import { parseDigest } from './oci/digest.js';
import { defaultManifestAccept } from './oci/media-types.js';
import { Metrics } from './plugins/metrics.js';
import { exceptionExpiresAt } from './policy/exceptions.js';
import { PolicyEngine, type ReloadResult } from './policy/loader/engine.js';
import { PolicyLoadError } from './policy/loader/load.js';
import { BlobService } from './pull/blob-service.js';
import { ConfigScreen } from './pull/config-screen.js';
import { PolicyGate } from './pull/judge-manifest.js';
import { pullFactsSource } from './pull/pull-facts-source.js';
import { DecisionRecorder } from './pull/record-decision.js';
import { allowAll, type ManifestGate } from './pull/verdict.js';
import { AdminError, adminRoutes } from './routes/admin.js';
import { healthRoutes } from './routes/health.js';
import { clientErrorResponse, sendRegistryError } from './routes/registry-error-handler.js';
import { consoleRoutes } from './routes/ui/index.js';
import type { PolicyStatus } from './routes/ui/policies-page.js';
import { v2Routes } from './routes/v2.js';
import { openChangeFeed } from './store/change-feed.js';
import { ConfigAllowanceStore } from './store/config-allowances.js';
import { DecisionIndex } from './store/decision-index.js';
import { Outbox, openStore, TagStore } from './store/index.js';
import { SessionStore } from './store/session-store.js';
import { TokenStore } from './store/token-store.js';
import type { AlertView } from './tags/alert-view.js';
import { createDescriber } from './tags/describer.js';
import { TagHistory } from './tags/history.js';
import { defaultTagMutationSettings } from './tags/mutation-policy.js';
import { tagMutationSettingsFrom } from './tags/policy-settings.js';
import { TagWatcher, upstreamTagResolver } from './tags/watch.js';
import { UpstreamClient, type UpstreamObservation } from './upstream/client.js';
import { UpstreamReachability } from './upstream/reachability.js';
import { UpstreamRouter } from './upstream/router.js';

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
  // Everything opened below is closed in reverse order when the app closes, including when a later step fails.
  const closers: (() => Promise<void> | void)[] = [];
  app.addHook('onClose', async () => {
    for (const close of closers.reverse()) {
      try {
        await close();
      } catch (err) {
        app.log.error({ err }, 'failed to close a component');
      }
    }
  });
  try {
    await wire(app, config, overrides, closers);
  } catch (err) {
    await app.close();
    throw err;
  }
  return app;
}

async function wire(
  app: FastifyInstance,
  config: Config,
  overrides: AppOverrides,
  closers: (() => Promise<void> | void)[],
): Promise<void> {
  const metrics = new Metrics();
  // Reads the router only when asked, once it exists below.
  const reachability = new UpstreamReachability(() => router.all);
  const clientOptions = {
    timeouts: config.upstreamTimeouts,
    dispatcher: overrides.dispatcher,
    observe: (o: UpstreamObservation) => {
      metrics.observeUpstream(o);
      reachability.observe(o);
    },
  };
  const defaultUpstream = new UpstreamClient(config.defaultUpstream, clientOptions);
  const upstreams = config.upstreams.map((u) => new UpstreamClient(u, clientOptions));
  const upstreamConfigs = new Map([config.defaultUpstream, ...config.upstreams].map((u) => [u.host, u]));
  const upstreamName = (host: string) => upstreamConfigs.get(host)?.name ?? host;
  const router = new UpstreamRouter({
    defaultUpstream,
    defaultLibraryPrefix: config.defaultUpstream.libraryPrefix,
    upstreams,
    libraryPrefix: (host) => upstreamConfigs.get(host)?.libraryPrefix ?? false,
  });
  closers.push(() => Promise.all(router.all.map((u) => u.close())).then(() => undefined));

  // Bound once the store is open; the manifest service asks it only when an upstream is down.
  let history: TagHistory | undefined;
  const blobStore = new BlobStore(join(config.dataDir, 'cache'), config.cacheMaxBytes);
  await blobStore.init();
  const manifests = new ManifestService({
    manifestMaxBytes: config.manifestMaxBytes,
    cache: new ManifestCache(join(config.dataDir, 'cache', 'manifests')),
    tagTtlSeconds: (host) => upstreamConfigs.get(host)?.tagTtlSeconds ?? config.tagTtlSeconds,
    lastKnown: async (upstream, repository, tag) => {
      const seen = (await history?.tags.observations({ upstream, repository, tag })) ?? [];
      const last = seen.length === 0 ? undefined : seen.reduce((a, b) => (b.last_seen > a.last_seen ? b : a));
      return last === undefined ? undefined : { digest: last.digest, mediaType: last.media_type };
    },
  });
  closers.push(() => manifests.close());
  const configs = new ConfigFetcher(config.configMaxBytes, blobStore);

  const auditDir = join(config.dataDir, 'audit');
  // Bound once the store is open; records written before that (the start's policy load, a recovery) are read back
  // from the files by its first pass.
  let indexer: AuditIndexer | undefined;
  const audit: AuditSink = await openAuditLog({
    dir: auditDir,
    enabled: config.audit.enabled,
    maxFileBytes: config.audit.maxFileBytes,
    maxFileAgeMs: config.audit.maxFileAgeMs,
    ...(config.audit.retentionDays !== undefined ? { retentionDays: config.audit.retentionDays } : {}),
    checkpoints: {
      origin: config.audit.origin,
      key: config.audit.signingKey,
      intervalMs: config.audit.checkpointIntervalMs,
    },
    logger: app.log,
    onAppended: (records) => indexer?.enqueue(records),
  });
  closers.push(() => audit.close());

  const policyStatus: PolicyStatus = { set: undefined, lastLoad: undefined };
  const engine = config.policyEnabled
    ? await policyEngine(app, config, audit, metrics, closers, policyStatus)
    : undefined;
  // Bound once the store is open (below); the gate awaits it only when it serves a manifest.
  let screen: ConfigScreen | undefined;
  let gate: ManifestGate = allowAll;
  if (overrides.gate !== undefined) gate = overrides.gate;
  else if (engine !== undefined) {
    const policyGate = new PolicyGate(engine, {
      manifests,
      configs,
      now: () => new Date(),
      allowConfig: async (route, digest, client, version) => screen?.allow(route, digest, client, version),
      pullFacts: pullFactsSource({ router, manifests, tags: () => history?.tags }),
      denyOnHead: config.denyOnHead,
    });
    closers.push(() => policyGate.close());
    gate = policyGate;
  }
  // Recomputed only when the policy version changes (a reload).
  let tagSettings = { version: '', settings: defaultTagMutationSettings };
  const tagMutationSettings = () => {
    if (engine === undefined) return defaultTagMutationSettings;
    if (tagSettings.version !== engine.version) {
      tagSettings = { version: engine.version, settings: tagMutationSettingsFrom(engine.current) };
    }
    return tagSettings.settings;
  };

  const store = await openStore({ dataDir: config.dataDir, databaseUrl: config.databaseUrl });
  closers.push(() => store.close());
  const decisionIndex = new DecisionIndex(store.db);
  if (audit.enabled) {
    const feed = new AuditIndexer({
      index: decisionIndex,
      replica: config.replicaId,
      dir: auditDir,
      logger: app.log,
      batchMs: config.audit.indexBatchMs,
    });
    indexer = feed;
    // Records on disk but not in the index (a crash between the write and the insert) are indexed now. A store that
    // refuses here already failed its migrations above; a later failure is retried by the feed itself.
    await feed.start();
    // Closed after the server stopped and the log drained (closers run in reverse: this one runs before the store's).
    closers.push(async () => {
      await audit.close();
      await feed.close();
    });
  }
  screen = new ConfigScreen({
    policies: () => engine?.current,
    allowances: new ConfigAllowanceStore(store.db),
    onError: (err, context) => app.log.warn({ err, context }, 'failed to use config allowances'),
  });
  const notifier = new Notifier({
    store,
    receivers: config.webhooks,
    publicUrl: config.publicUrl,
    upstreamName,
    onAttempt: (outcome) => metrics.webhookDeliveries.inc({ outcome }),
    onError: (err, context) => app.log.warn({ err, context }, 'failed to deliver a webhook'),
    onDeliveryFailed: (failure) => {
      metrics.webhookFailures.inc({ event: failure.event });
      app.log.warn(failure, 'failed to deliver a webhook');
    },
  });
  const warnedImages = new WarnedImageNotices({
    store,
    receivers: config.webhooks,
    upstreamName,
    onRecorded: () => notifier.wake(),
    onError: (err) => app.log.warn({ err }, 'failed to record a warned image'),
  });
  const outbox = new Outbox(store.db);
  const tagStore = new TagStore(store.db);
  metrics.setSources({
    cache: () => blobStore.usage,
    openAlerts: () => tagStore.openAlertCounts(),
    outbox: () => outbox.backlog(),
    upstreamUp: () => Object.fromEntries(router.all.map((u) => [u.name, reachability.current(u.host)])),
  });
  closers.push(() => notifier.stop());
  const checkpoints = new CheckpointPublisher({
    store,
    receivers: config.webhooks,
    latest: () => audit.checkpoint(),
    intervalMs: config.audit.checkpointWebhookIntervalMs,
    onEnqueued: () => notifier.wake(),
    onError: (err, context) => app.log.warn({ err, context }, 'failed to enqueue a webhook event'),
  });
  closers.push(() => checkpoints.stop());
  history = new TagHistory({
    store,
    describe: createDescriber({ manifests, configs, envKey: await store.secret('env-hmac') }),
    receivers: config.webhooks,
    upstreamName,
    settings: tagMutationSettings,
    policyDecision: async (route, digest, signal) => {
      const parsed = parseDigest(digest);
      if (parsed === undefined) return undefined;
      const manifest = await manifests.getByDigest(route, parsed, defaultManifestAccept, signal);
      const verdict = await gate.judge({
        route,
        name: route.repository,
        reference: { kind: 'digest', digest: parsed },
        manifest,
        client: { address: 'pullgate', user: undefined, userAgent: undefined },
        signal,
      });
      return {
        decision: verdict.kind,
        findings: verdict.findings.map((f) => ({ rule: f.rule, key: f.key })),
      };
    },
    onAlertOpened: () => notifier.wake(),
    onAlertReviewed: () => notifier.wake(),
    // A burst of pulls of one tag costs one store write a second, not one per pull.
    repeatWindowMs: 1000,
    onError: (err, context) => app.log.warn({ err, context }, 'failed to update tag history'),
  });
  closers.push(() => history?.flush());
  // A review through another replica clears what this one remembers about the tag at once (LISTEN/NOTIFY).
  const changes = await openChangeFeed({
    databaseUrl: config.databaseUrl,
    onChange: (change) => {
      history?.forgetRepeats(change);
      const upstream = router.all.find((u) => u.host === change.upstream);
      if (upstream !== undefined)
        manifests.forgetTag({ upstream, repository: change.repository }, change.tag);
    },
    onError: (err, context) => app.log.warn({ err, context }, 'failed to use the tag change feed'),
  });
  closers.push(() => changes.close());
  notifier.start();
  checkpoints.start();
  if (config.watch.intervalSeconds > 0) {
    const watcher = new TagWatcher({
      store,
      history,
      intervalSeconds: config.watch.intervalSeconds,
      concurrency: config.watch.concurrency,
      routeFor: (host, repository) => {
        const upstream = router.all.find((u) => u.host === host);
        return upstream === undefined ? undefined : { upstream, repository };
      },
      resolve: upstreamTagResolver(manifests),
      // An `alert`-action move is then served at once rather than after the tag window.
      onMoved: (key, route) => manifests.forgetTag(route, key.tag),
      onError: (err, context, key) =>
        app.log.warn({ err, context, ...key }, 'failed to re-check a tracked tag'),
      onPass: (result) => app.log.info(result, 'finished a tag watch pass'),
    });
    watcher.start();
    // Pushed after the store and upstreams, so it stops before they close.
    closers.push(() => watcher.stop());
  }

  const authenticate = createAuthenticator({
    htpasswdFile: config.htpasswdFile,
    allowAnonymous: config.allowAnonymous,
  });

  // The request id is the decision record's `requestId`: a client (or a support ticket) can name its pull.
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
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

  await app.register(healthRoutes, {
    metrics,
    // Reported in the body, never a readiness check: one upstream's outage must not take replicas out of service.
    upstreams: () => reachability.report(),
    readiness: {
      upstreamsConfigured: () => router.all.length > 0,
      // The engine exists only once a valid policy set loaded (start-up stops otherwise); off is a choice. After a
      // failed reload the last good set still judges, but the files on disk are not in force: an operator must look.
      policies: () => {
        if (engine === undefined) return !config.policyEnabled;
        const last = engine.lastReload;
        if (last === undefined || last.ok) return true;
        return {
          ok: false,
          reason: `the last policy reload failed; version ${last.version} stays in force: ${last.message.slice(0, 500)}`,
        };
      },
      store: async () =>
        (await store.ping()) ? true : { ok: false, reason: `the store (${store.target}) is not answering` },
      decisionLog: () => audit.health(),
    },
  });
  const users = await UsersDirectory.create({ file: config.usersFile, logger: app.log, watch: true });
  closers.push(() => users.close());
  // Every review names who made it and how they proved it (issue 12): never a name the client typed.
  const recordReview = async (review: {
    requestId: string;
    alert: AlertView;
    action: 'approve' | 'reject' | 'reopen';
    reviewer: Principal;
    reason: string;
  }) => {
    await audit.append({
      type: 'review',
      requestId: review.requestId,
      actor: review.reviewer.name.slice(0, 200),
      auth: review.reviewer.via,
      action: review.action,
      alertId: String(review.alert.id),
      upstream: review.alert.upstream,
      repository: review.alert.repository,
      tag: review.alert.tag,
      digest: review.alert.new.digest,
      reason: review.reason.slice(0, 2000),
    });
    // The other replicas drop what they remember about the tag at once (LISTEN/NOTIFY on PostgreSQL).
    const { upstream, repository, tag } = review.alert;
    await changes
      .publish({ upstream, repository, tag })
      .catch((err: unknown) =>
        app.log.warn({ err }, 'failed to announce a tag review to the other replicas'),
      );
  };
  // Every replica's records, from the shared index; the files stay the record (`pullgate log reindex`). This
  // replica's own records are flushed first, so a query sees every decision this replica has answered; other
  // replicas' arrive within their batch interval.
  const decisions = audit.enabled
    ? async (filters: DecisionFilters) => {
        await indexer?.flush().catch(() => undefined);
        try {
          return await decisionIndex.queryDecisions(filters);
        } catch (err) {
          if (err instanceof InvalidQueryError) throw err;
          // The index lives in the store: without it there is no answer, and the caller should try again.
          app.log.warn({ err }, 'failed to query the decision index');
          throw new AdminError(
            503,
            'STORE_UNAVAILABLE',
            `the decision index in the store (${store.target}) is not answering`,
          );
        }
      }
    : undefined;
  const tokens = new TokenStore(store.db);
  await app.register(consoleRoutes, {
    history,
    users,
    tokens,
    sessions: new SessionStore(store.db, {
      idleMs: config.session.idleSeconds * 1000,
      absoluteMs: config.session.maxSeconds * 1000,
    }),
    secureCookies: config.publicUrl?.startsWith('https://') === true,
    loginLimit: config.loginLimit,
    recordReview,
    decisions,
    decision: audit.enabled ? (replica, seq) => decisionIndex.decision(replica, seq) : undefined,
    policies: () => ({ ...policyStatus, set: engine?.current }),
    expiresAt: (expires) => exceptionExpiresAt({ expires } as Parameters<typeof exceptionExpiresAt>[0]),
  });
  await app.register(adminRoutes, {
    history,
    token: config.adminToken,
    tokens,
    upstreamName,
    defaultUpstream: 'docker.io',
    resolveName: (name) => {
      const route = router.route(name, undefined);
      return { upstream: route.upstream.host, repository: route.repository };
    },
    onReviewed: recordReview,
    ...(decisions !== undefined ? { decisions, checkpoint: () => audit.checkpoint() } : {}),
  });
  const recorder = new DecisionRecorder({
    audit,
    onRecorded: (facts) => {
      metrics.countDecision(facts);
      const policy = facts.verdict.policy;
      if (facts.verdict.kind === 'warn' && facts.digest !== undefined && policy !== undefined) {
        void warnedImages.note({
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
    router,
    pull: {
      manifests,
      gate: () => gate,
      tags: history,
      recorder,
      storeName: store.target,
      denyOnHead: config.denyOnHead,
    },
    blobs: new BlobService(blobStore, { screen, screenMaxBytes: config.configMaxBytes }),
    metrics,
    authenticate,
  });
}

async function policyEngine(
  app: FastifyInstance,
  config: Config,
  audit: AuditSink,
  metrics: Metrics,
  closers: (() => Promise<void> | void)[],
  status: PolicyStatus,
): Promise<PolicyEngine> {
  const recordLoad = (trigger: 'start' | 'reload', result: ReloadResult) => {
    status.lastLoad = {
      at: new Date().toISOString(),
      trigger,
      ok: result.ok,
      version: result.version,
      message: result.ok ? undefined : result.message,
    };
    return audit
      .append({
        type: 'policy-load',
        trigger,
        outcome: result.ok ? 'loaded' : 'failed',
        policy: { name: 'policies', version: result.version },
        source: config.policyDir,
        ...(result.ok ? {} : { error: result.message.slice(0, 2000) }),
      })
      .catch((err: unknown) => app.log.error({ err }, 'failed to record a policy load'));
  };
  let engine: PolicyEngine;
  try {
    engine = await PolicyEngine.create({
      dir: config.policyDir,
      logger: app.log,
      watch: true,
      allowEmpty: config.policyAllowEmpty,
      onReload: (result) => {
        metrics.policyReloads.inc({ outcome: result.ok ? 'loaded' : 'failed' });
        metrics.policyReloadHealthy.set(result.ok ? 1 : 0);
        void recordLoad('reload', result);
      },
    });
  } catch (err) {
    if (err instanceof PolicyLoadError) {
      await audit
        .append({
          type: 'policy-load',
          trigger: 'start',
          outcome: 'failed',
          source: config.policyDir,
          error: err.message.slice(0, 2000),
        })
        .catch(() => undefined);
    }
    throw err;
  }
  closers.push(() => engine.close());
  metrics.policyReloads.inc({ outcome: 'loaded' });
  metrics.policyReloadHealthy.set(1);
  await recordLoad('start', {
    ok: true,
    version: engine.version,
    previous: '',
    changed: true,
    policies: engine.current.policies.length,
  });
  return engine;
}
