import fp from 'fastify-plugin';
import type { Config } from '../config/config.js';
import { judgeDigest } from '../pull/judge-digest.js';
import { type ChangeFeed, openChangeFeed } from '../store/change-feed.js';
import { createDescriber } from '../tags/describer.js';
import { TagHistory } from '../tags/history.js';
import { type Review, recordReview } from '../tags/record-review.js';
import { TagWatcher, upstreamTagResolver } from '../tags/watch.js';
import { closeWithApp } from './on-close.js';

/** What every tag meant, the feed that tells the other replicas of a review, and the review use case. */
export interface Tags {
  history: TagHistory;
  changes: ChangeFeed;
  recordReview(review: Review): Promise<void>;
}

declare module 'fastify' {
  interface FastifyInstance {
    tags: Tags;
  }
}

export const tagsPlugin = fp<{ config: Config }>(
  async (app, { config }) => {
    const { store } = app;
    const { manifests, configs } = app.caches;
    const { router } = app.upstreams;
    const { notifier } = app.notify;
    const history = new TagHistory({
      store,
      describe: createDescriber({ manifests, configs, envKey: await store.secret('env-hmac') }),
      receivers: config.webhooks,
      upstreamName: app.upstreams.name,
      settings: app.policies.tagSettings,
      policyDecision: (route, digest, signal) =>
        judgeDigest({ manifests, gate: () => app.judge.gate }, route, digest, signal),
      onAlertOpened: () => notifier.wake(),
      onAlertReviewed: () => notifier.wake(),
      // A burst of pulls of one tag costs one store write a second, not one per pull.
      repeatWindowMs: 1000,
      onError: (err, context) => app.log.warn({ err, context }, 'failed to update tag history'),
    });
    closeWithApp(app, 'tag history', () => history.flush());
    // A review through another replica clears what this one remembers about the tag at once (LISTEN/NOTIFY).
    const changes = await openChangeFeed({
      databaseUrl: config.databaseUrl,
      onChange: (change) => {
        history.forgetRepeats(change);
        const upstream = router.all.find((u) => u.host === change.upstream);
        if (upstream !== undefined)
          manifests.forgetTag({ upstream, repository: change.repository }, change.tag);
      },
      onError: (err, context) => app.log.warn({ err, context }, 'failed to use the tag change feed'),
    });
    closeWithApp(app, 'tag change feed', () => changes.close());
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
      // Added after the store's and the upstreams' hooks, so it stops before they close.
      closeWithApp(app, 'tag watcher', () => watcher.stop());
    }
    app.decorate('tags', {
      history,
      changes,
      recordReview: (review: Review) =>
        recordReview(
          {
            audit: app.audit.log,
            changes,
            onError: (err) => app.log.warn({ err }, 'failed to announce a tag review to the other replicas'),
          },
          review,
        ),
    });
  },
  { name: 'tags', dependencies: ['store', 'caches', 'upstreams', 'notify', 'policies', 'judge', 'audit'] },
);
