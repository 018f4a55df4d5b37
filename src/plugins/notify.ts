import fp from 'fastify-plugin';
import type { Config } from '../config/config.js';
import { CheckpointPublisher, Notifier } from '../notify/index.js';
import { WarnedImageNotices } from '../notify/warned-images.js';
import { closeWithApp } from './on-close.js';

/** Webhooks: the outbox's deliverer, warned-image notices and the checkpoint publisher. */
export interface Notify {
  notifier: Notifier;
  warnedImages: WarnedImageNotices;
}

declare module 'fastify' {
  interface FastifyInstance {
    notify: Notify;
  }
}

export const notifyPlugin = fp<{ config: Config }>(
  async (app, { config }) => {
    const { store, metrics } = app;
    const notifier = new Notifier({
      store,
      receivers: config.webhooks,
      publicUrl: config.publicUrl,
      upstreamName: app.upstreams.name,
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
      upstreamName: app.upstreams.name,
      onRecorded: () => notifier.wake(),
      onError: (err) => app.log.warn({ err }, 'failed to record a warned image'),
    });
    const checkpoints = new CheckpointPublisher({
      store,
      receivers: config.webhooks,
      latest: () => app.audit.log.checkpoint(),
      intervalMs: config.audit.checkpointWebhookIntervalMs,
      onEnqueued: () => notifier.wake(),
      onError: (err, context) => app.log.warn({ err, context }, 'failed to enqueue a webhook event'),
    });
    notifier.start();
    checkpoints.start();
    closeWithApp(app, 'webhook notifier', () => notifier.stop());
    closeWithApp(app, 'checkpoint publisher', () => checkpoints.stop());
    app.decorate('notify', { notifier, warnedImages });
  },
  { name: 'notify', dependencies: ['store', 'audit', 'metrics', 'upstreams'] },
);
