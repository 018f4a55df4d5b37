import { join } from 'node:path';
import fp from 'fastify-plugin';
import { type AuditSink, type DecisionFilters, InvalidQueryError, openAuditLog } from '../audit/index.js';
import { AuditIndexer } from '../audit/indexer.js';
import type { Config } from '../config/config.js';
import { DecisionIndex } from '../store/decision-index.js';
import { StoreUnavailableError } from '../store/index.js';
import { closeWithApp } from './on-close.js';

/** The decision log (this replica's hash chain on disk) and the store's index of every replica's records. */
export interface Audit {
  log: AuditSink;
  /** Every replica's decisions, newest first; undefined when the log is off. */
  decisions: ((filters: DecisionFilters) => ReturnType<DecisionIndex['queryDecisions']>) | undefined;
  /** One record, by replica and sequence; undefined when the log is off. */
  decision: DecisionIndex['decision'] | undefined;
}

declare module 'fastify' {
  interface FastifyInstance {
    audit: Audit;
  }
}

export const auditPlugin = fp<{ config: Config }>(
  async (app, { config }) => {
    const dir = join(config.dataDir, 'audit');
    const index = new DecisionIndex(app.store.db);
    // Bound once the log has recovered; records written before that (a recovery) are read back from the files by
    // the indexer's first pass.
    let indexer: AuditIndexer | undefined;
    const log = await openAuditLog({
      dir,
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
      onPruned: (through) => indexer?.prune(through),
    });
    // The log drains first (its last records reach the indexer), then the indexer writes what it holds (hooks run
    // in reverse order).
    closeWithApp(app, 'decision index feed', () => indexer?.close());
    closeWithApp(app, 'decision log', () => log.close());
    if (log.enabled) {
      const feed = new AuditIndexer({
        index,
        replica: config.replicaId,
        dir,
        logger: app.log,
        batchMs: config.audit.indexBatchMs,
      });
      // Records on disk but not in the index (a crash between the write and the insert) are indexed now. A store
      // that refuses here already failed its migrations; a later failure is retried by the feed itself.
      await feed.start();
      indexer = feed;
    }
    app.decorate('audit', {
      log,
      // This replica's own records are flushed first, so a query sees every decision this replica has answered;
      // other replicas' arrive within their batch interval. The files stay the record (`pullgate log reindex`).
      decisions: log.enabled
        ? async (filters: DecisionFilters) => {
            await indexer?.flush().catch(() => undefined);
            try {
              return await index.queryDecisions(filters);
            } catch (err) {
              if (err instanceof InvalidQueryError) throw err;
              // The index lives in the store: without it there is no answer, and the caller should try again.
              app.log.warn({ err }, 'failed to query the decision index');
              throw new StoreUnavailableError(
                `the decision index in the store (${app.store.target}) is not answering`,
                { cause: err },
              );
            }
          }
        : undefined,
      decision: log.enabled ? (replica: string, seq: number) => index.decision(replica, seq) : undefined,
    });
  },
  { name: 'audit', dependencies: ['store'] },
);
