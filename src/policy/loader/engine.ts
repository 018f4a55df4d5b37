import { type FSWatcher, watch } from 'node:fs';
import type { PolicySet } from '../schema.js';
import { loadPolicies, PolicyLoadError, type PolicyProblem } from './load.js';

export type ReloadResult =
  | { ok: true; version: string; previous: string; changed: boolean; policies: number }
  | { ok: false; version: string; problems: PolicyProblem[]; message: string };

/** The part of a pino/Fastify logger the engine uses. */
export interface EngineLogger {
  info(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface PolicyEngineOptions {
  dir: string;
  logger?: EngineLogger;
  /** Called after every reload attempt, successful or not. */
  onReload?: (result: ReloadResult) => void;
  /** Reload on file changes in `dir` (fs.watch) and on SIGHUP. Default false; `start()` also turns it on. */
  watch?: boolean;
  /** Quiet period after the last file event before reloading: editors write files in several steps. */
  debounceMs?: number;
  /** Accept a directory with no policy files (PULLGATE_POLICY_ALLOW_EMPTY); otherwise it is a failed load. */
  allowEmpty?: boolean;
}

/**
 * Holds the policy set in force. A reload that fails validation keeps the set in force and reports why; every
 * decision names the version it used, so a reviewer can tell which files judged a pull.
 */
export class PolicyEngine {
  private set: PolicySet;
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private reloading: Promise<ReloadResult> | undefined;
  private again = false;
  private readonly onSighup = () => {
    void this.reload();
  };
  private closed = false;
  private last: ReloadResult | undefined;

  private constructor(
    private readonly options: PolicyEngineOptions,
    initial: PolicySet,
  ) {
    this.set = initial;
  }

  /** Loads the directory; throws PolicyLoadError (start-up must stop) when it is not valid. */
  static async create(options: PolicyEngineOptions): Promise<PolicyEngine> {
    const engine = new PolicyEngine(
      options,
      await loadPolicies(options.dir, { allowEmpty: options.allowEmpty ?? false }),
    );
    if (options.watch === true) engine.startWatching();
    return engine;
  }

  /** An engine over a fixed set (tests, `pullgate evaluate`). reload() re-reads `dir` if one is given. */
  static fixed(set: PolicySet, dir = ''): PolicyEngine {
    return new PolicyEngine({ dir }, set);
  }

  get current(): PolicySet {
    return this.set;
  }

  get version(): string {
    return this.set.version;
  }

  /**
   * The last reload attempt, undefined before the first. When it failed, the set in force is the last good one,
   * and readiness says so: the files on disk are not what judges pulls.
   */
  get lastReload(): ReloadResult | undefined {
    return this.last;
  }

  /** Re-reads the directory. Concurrent calls share one read; a call during a read schedules one more. */
  reload(): Promise<ReloadResult> {
    if (this.reloading !== undefined) {
      this.again = true;
      return this.reloading;
    }
    this.reloading = this.doReload().finally(() => {
      this.reloading = undefined;
      if (this.again && !this.closed) {
        this.again = false;
        void this.reload();
      }
    });
    return this.reloading;
  }

  private async doReload(): Promise<ReloadResult> {
    const previous = this.set.version;
    let result: ReloadResult;
    try {
      const next = await loadPolicies(this.options.dir, { allowEmpty: this.options.allowEmpty ?? false });
      this.set = next;
      result = {
        ok: true,
        version: next.version,
        previous,
        changed: next.version !== previous,
        policies: next.policies.length,
      };
      if (result.changed) {
        this.options.logger?.info(
          { version: next.version, previous, policies: next.policies.length },
          'policies reloaded',
        );
      }
    } catch (err) {
      const problems =
        err instanceof PolicyLoadError
          ? err.problems
          : [{ file: this.options.dir, path: '', message: err instanceof Error ? err.message : String(err) }];
      const message = err instanceof Error ? err.message : String(err);
      result = { ok: false, version: previous, problems, message };
      this.options.logger?.error(
        { version: previous, problems },
        'failed to reload policies; keeping the policies in force',
      );
    }
    this.last = result;
    this.options.onReload?.(result);
    return result;
  }

  /** Reload on SIGHUP and on changes in the directory (debounced). */
  startWatching(): void {
    if (this.watcher !== undefined || this.closed) return;
    process.on('SIGHUP', this.onSighup);
    try {
      this.watcher = watch(this.options.dir, { persistent: false }, () => this.schedule());
      this.watcher.on('error', (err) => {
        this.options.logger?.error({ err: err.message }, 'failed to watch the policy directory');
      });
    } catch (err) {
      this.options.logger?.error(
        { err: err instanceof Error ? err.message : String(err) },
        'failed to watch the policy directory; reload with SIGHUP',
      );
    }
  }

  private schedule(): void {
    if (this.closed) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.reload();
    }, this.options.debounceMs ?? 250);
    this.timer.unref();
  }

  close(): void {
    this.closed = true;
    process.off('SIGHUP', this.onSighup);
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.watcher?.close();
    this.watcher = undefined;
  }
}
