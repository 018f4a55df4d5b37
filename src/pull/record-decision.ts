import type { AuditSink } from '../audit/index.js';
import { type DecisionFacts, decisionRecord, exceptionRecords } from './decision-record.js';
import { PullUnavailableError } from './errors.js';

export interface DecisionRecorderOptions {
  audit: AuditSink;
  /** Told of every decision once it is on the record (metrics count what the log holds, no more). */
  onRecorded?: (facts: DecisionFacts) => void;
  /** Why a record could not be written, for the operator's log (the client gets a 503 without it). */
  onError: (err: unknown, facts: DecisionFacts) => void;
}

/**
 * Puts a decision on the record before its answer goes out. A decision that cannot be recorded is not answered:
 * the log's promise is that every answer is in it.
 */
export class DecisionRecorder {
  constructor(private readonly options: DecisionRecorderOptions) {}

  async record(facts: DecisionFacts): Promise<void> {
    try {
      // Appended together, in order, so they share one synchronous write instead of waiting one after another.
      await Promise.all(
        [...exceptionRecords(facts), decisionRecord(facts)].map((r) => this.options.audit.append(r)),
      );
    } catch (err) {
      this.options.onError(err, facts);
      const code = (err as { code?: unknown }).code;
      throw new PullUnavailableError(
        'decision-log',
        `decision log unavailable${typeof code === 'string' ? ` (${code})` : ''}: nothing is served unrecorded`,
        undefined,
        { cause: err },
      );
    }
    this.options.onRecorded?.(facts);
  }
}
