import type { ManifestService } from '../cache/manifest-service.js';
import { defaultManifestAccept } from '../oci/media-types.js';
import type { Store } from '../store/open.js';
import { type TagKey, TagStore, type WatchedTag } from '../store/tag-store.js';
import { isAbortError, UpstreamError } from '../upstream/errors.js';
import type { UpstreamRepository } from '../upstream/router.js';
import type { TagDecision, TagTracker } from './tracker.js';
import {
  type Backoff,
  firstPassDelayMs,
  isBackedOff,
  jitteredDelayMs,
  noBackoff,
  parseRetryAfterMs,
  rateLimited,
  recovered,
} from './watch-schedule.js';

/** What a re-check learns about a tag: the digest and media type the upstream names for it now. */
export interface WatchResolution {
  digest: string;
  mediaType: string;
}

export type WatchResolve = (
  route: UpstreamRepository,
  tag: string,
  signal: AbortSignal,
) => Promise<WatchResolution>;

export interface WatchPassResult {
  /** Tags resolved upstream and handed to the history. */
  checked: number;
  /** Of those, tags whose digest is not the approved one (an alert was opened, or is already open). */
  moved: number;
  errors: number;
  /** Tags left alone: their upstream is backing off, is no longer configured, or the watcher stopped. */
  skipped: number;
}

export interface TagWatcherOptions {
  store: Store;
  history: Pick<TagTracker, 'observe'>;
  /** The route for a recorded (upstream host, repository); undefined when that upstream is no longer configured. */
  routeFor: (upstream: string, repository: string) => UpstreamRepository | undefined;
  /** Resolves a tag upstream now (no tag window, no stale answer); throws an UpstreamError when it cannot. */
  resolve: WatchResolve;
  intervalSeconds: number;
  /** Checks in flight at once, over all upstreams. Default 4. */
  concurrency?: number;
  /** Fraction the interval is spread by, either way. Default 0.2. */
  jitter?: number;
  /** At most this many tags per pass, least recently seen first. Default: all. */
  maxTags?: number;
  /** A rate-limited upstream's interval doubles up to this. Default 32 times the interval. */
  maxIntervalSeconds?: number;
  /**
   * Tags seen (by a client, or another replica's watcher on a shared store) within this many seconds are not
   * re-checked. Default 0: every tag, every pass.
   */
  minAgeSeconds?: number;
  /** Bound on one upstream resolution. Default 30. */
  timeoutSeconds?: number;
  now?: () => Date;
  random?: () => number;
  onError?: (err: unknown, context: string, key?: TagKey) => void;
  /** After a check found a tag away from its approved digest (e.g. to drop the proxy's tag window for it). */
  onMoved?: (key: TagKey, route: UpstreamRepository, decision: TagDecision) => void;
  /** After every scheduled pass, for a log line or metrics. */
  onPass?: (result: WatchPassResult) => void;
}

/**
 * A resolver for the watcher: one HEAD by tag (Docker Hub does not count HEADs against its pull limit), past the
 * proxy's tag window and without its stale fallback, so a 429 reaches the watcher with its Retry-After.
 */
export function upstreamTagResolver(
  manifests: Pick<ManifestService, 'resolveTagUpstream'>,
  accept = defaultManifestAccept,
): WatchResolve {
  return async (route, tag, signal) => {
    const resolved = await manifests.resolveTagUpstream(route, tag, accept, signal);
    return { digest: resolved.digest, mediaType: resolved.mediaType };
  };
}

function toKey(t: WatchedTag): TagKey {
  return { upstream: t.upstream, repository: t.repository, tag: t.tag };
}

function isRateLimit(err: unknown): err is UpstreamError {
  return err instanceof UpstreamError && err.failure === 'rate-limited';
}

/**
 * Re-checks tracked tags on a schedule so an overwrite is noticed even when nobody pulls: each pass resolves the
 * tags upstream with bounded concurrency and hands each answer to the tag history, which records it and opens
 * the alert (and applies the pin) exactly as a client's pull would. An upstream that answers 429 is left alone
 * for the rest of the pass and for a doubled interval after it. Errors are counted and reported, never thrown
 * out of the loop.
 */
export class TagWatcher {
  private readonly intervalMs: number;
  private readonly now: () => Date;
  private readonly random: () => number;
  private readonly backoff = new Map<string, Backoff>();
  /** Aborted by stop(): resolutions in flight end, observations in flight finish (an alert is never half made). */
  private stopping = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private pass: Promise<WatchPassResult> | undefined;
  private started = false;

  constructor(private readonly options: TagWatcherOptions) {
    if (!(options.intervalSeconds > 0)) throw new RangeError('the watch interval must be a positive number');
    this.intervalMs = options.intervalSeconds * 1000;
    this.now = options.now ?? (() => new Date());
    this.random = options.random ?? Math.random;
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    if (this.stopping.signal.aborted) this.stopping = new AbortController();
    this.schedule(firstPassDelayMs(this.intervalMs, this.random()));
  }

  /** Stops scheduling, ends resolutions in flight and waits for the pass to finish. */
  async stop(): Promise<void> {
    this.started = false;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.stopping.abort();
    await this.pass?.catch(() => undefined);
  }

  /** The backoff an upstream is under, if any (for /metrics or an admin view). */
  backoffFor(upstream: string): Backoff {
    return this.backoff.get(upstream) ?? noBackoff;
  }

  /** One pass over the tracked tags. A call while a pass runs shares that pass. */
  runOnce(): Promise<WatchPassResult> {
    if (this.pass === undefined) {
      this.pass = this.runPass().finally(() => {
        this.pass = undefined;
      });
    }
    return this.pass;
  }

  private schedule(delayMs: number): void {
    if (!this.started) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.runOnce()
        .then((result) => this.options.onPass?.(result))
        .catch((err: unknown) => this.options.onError?.(err, 'failed to run a tag watch pass'))
        .finally(() =>
          this.schedule(jitteredDelayMs(this.intervalMs, this.options.jitter ?? 0.2, this.random())),
        );
    }, delayMs);
    // The watcher never keeps the process alive on its own.
    this.timer.unref();
  }

  private async runPass(): Promise<WatchPassResult> {
    const result: WatchPassResult = { checked: 0, moved: 0, errors: 0, skipped: 0 };
    const minAge = this.options.minAgeSeconds ?? 0;
    const tags = await new TagStore(this.options.store.db).watchedTags({
      limit: this.options.maxTags,
      seenBefore: minAge > 0 ? new Date(this.now().getTime() - minAge * 1000).toISOString() : undefined,
    });
    const limitedThisPass = new Set<string>();
    const succeeded = new Set<string>();
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < tags.length; i = next++) {
        const key = tags[i];
        if (key === undefined) break;
        const outcome = await this.check(key, limitedThisPass).catch((err: unknown) => {
          this.options.onError?.(err, 'failed to re-check a tag', toKey(key));
          return 'errors' as const;
        });
        result[outcome]++;
        if (outcome === 'checked' || outcome === 'moved') succeeded.add(key.upstream);
        if (outcome === 'moved') result.checked++;
      }
    };
    const workers = Math.max(1, Math.min(this.options.concurrency ?? 4, tags.length));
    await Promise.all(Array.from({ length: workers }, worker));
    for (const upstream of succeeded) {
      if (limitedThisPass.has(upstream)) continue;
      const b = this.backoff.get(upstream);
      if (b !== undefined) this.backoff.set(upstream, recovered(b));
    }
    return result;
  }

  private async check(
    key: WatchedTag,
    limitedThisPass: Set<string>,
  ): Promise<'checked' | 'moved' | 'errors' | 'skipped'> {
    const tagKey = toKey(key);
    if (this.stopping.signal.aborted || limitedThisPass.has(key.upstream)) return 'skipped';
    if (isBackedOff(this.backoffFor(key.upstream), this.now().getTime())) return 'skipped';
    const route = this.options.routeFor(key.upstream, key.repository);
    if (route === undefined) return 'skipped';

    const timeoutMs = (this.options.timeoutSeconds ?? 30) * 1000;
    let resolution: WatchResolution;
    try {
      resolution = await this.options.resolve(
        route,
        key.tag,
        AbortSignal.any([this.stopping.signal, AbortSignal.timeout(timeoutMs)]),
      );
    } catch (err) {
      if (this.stopping.signal.aborted && isAbortError(err)) return 'skipped';
      if (isRateLimit(err)) this.onRateLimited(key.upstream, err, limitedThisPass);
      this.options.onError?.(err, 'failed to re-check a tag upstream', tagKey);
      return 'errors';
    }

    let decision: TagDecision;
    try {
      // Not tied to stop(): an observation that is opening an alert finishes, so the alert is whole.
      decision = await this.options.history.observe(
        {
          route,
          name: key.repository,
          tag: key.tag,
          digest: resolution.digest,
          mediaType: resolution.mediaType,
          source: 'upstream',
          // The watcher asks with every manifest type, indexes included.
          acceptsIndex: true,
        },
        AbortSignal.timeout(timeoutMs * 2),
      );
    } catch (err) {
      this.options.onError?.(err, 'failed to record a re-checked tag', tagKey);
      return 'errors';
    }
    if (decision.event === 'first-seen' || decision.event === 'unchanged') return 'checked';
    try {
      this.options.onMoved?.(tagKey, route, decision);
    } catch (err) {
      this.options.onError?.(err, 'failed to act on a moved tag', tagKey);
    }
    return 'moved';
  }

  private onRateLimited(upstream: string, err: UpstreamError, limitedThisPass: Set<string>): void {
    // Several checks in flight may all be refused; the upstream's interval doubles once per pass, not per answer.
    if (limitedThisPass.has(upstream)) return;
    limitedThisPass.add(upstream);
    const nowMs = this.now().getTime();
    const maxIntervalSeconds = this.options.maxIntervalSeconds ?? this.options.intervalSeconds * 32;
    this.backoff.set(
      upstream,
      rateLimited(this.backoffFor(upstream), {
        nowMs,
        intervalMs: this.intervalMs,
        maxIntervalMs: Math.max(this.intervalMs, maxIntervalSeconds * 1000),
        retryAfterMs: parseRetryAfterMs(err.retryAfter, nowMs),
        jitter: this.options.jitter ?? 0.2,
        random: this.random(),
      }),
    );
  }
}
