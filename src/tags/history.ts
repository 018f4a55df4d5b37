import { isIndexMediaType } from '../oci/media-types.js';
import type { Store } from '../store/open.js';
import type { OutboxReceiver } from '../store/outbox.js';
import type { AlertRow, AuthMethod, ManifestKind, TagStateRow } from '../store/schema.js';
import {
  type ObservationInput,
  type ReopenResult,
  type ReviewResult,
  type TagKey,
  TagStore,
} from '../store/tag-store.js';
import type { UpstreamRepository } from '../upstream/router.js';
import { type AlertView, toAlertView, type UpstreamNamer } from './alert-view.js';
import { classifyObservation, type KnownDigest } from './classify-observation.js';
import type { Describe } from './describer.js';
import type { ImageDescription } from './description.js';
import { diffImages } from './diff.js';
import { defaultTagMutationSettings, type TagMutationSettings, tagMutationRule } from './mutation-policy.js';
import { raiseSeverity, severityReasons } from './severity.js';
import type { TagDecision, TagObservation, TagTracker } from './tracker.js';

export interface TagHistoryOptions {
  store: Store;
  describe: Describe;
  /** The tag-mutation rule's settings; a function so a policy reload takes effect on the next observation. */
  settings?: TagMutationSettings | (() => TagMutationSettings);
  /** Webhook receivers: an opened alert is enqueued for each in the same transaction. */
  receivers?: readonly OutboxReceiver[];
  /** The policy decision for a digest, recorded on the alert (a JSON-able summary). */
  policyDecision?: (route: UpstreamRepository, digest: string, signal: AbortSignal) => Promise<unknown>;
  /** Called after this process opened an alert (e.g. to wake the notifier). */
  onAlertOpened?: (alert: AlertView) => void;
  /** Called after this process reviewed or reopened an alert, whose webhook events are then queued. */
  onAlertReviewed?: (alert: AlertView) => void;
  onError?: (err: unknown, context: string) => void;
  now?: () => Date;
  /** Descriptions kept in memory (an optimisation: the store is the record). */
  descriptionCacheSize?: number;
  /**
   * How long a repeat of the same resolution is answered from memory, its sighting counted in a batch written
   * at most this late. Another replica's review takes effect within it; this replica's own, at once. 0 = off.
   */
  repeatWindowMs?: number;
  /** How alerts name an upstream (the default upstream by its own host unless it is Docker Hub). */
  upstreamName?: UpstreamNamer;
}

export interface TagHistoryView {
  upstream: string;
  /** The registry as people know it (see AlertView.registry). */
  registry: string;
  repository: string;
  tag: string;
  observations: {
    digest: string;
    mediaType: string;
    kind: ManifestKind;
    firstSeen: string;
    lastSeen: string;
    count: number;
    children?: { digest: string; mediaType: string; platform: string }[];
  }[];
  approved: { kind: ManifestKind; digest: string; mediaType: string; approvedAt: string; pinned: boolean }[];
  alerts: AlertView[];
}

function kindOf(mediaType: string): ManifestKind {
  return isIndexMediaType(mediaType) ? 'index' : 'manifest';
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Remembers what every tag meant, notices when it changes, and applies the tag-mutation rule. The database is
 * the record (so replicas on one PostgreSQL share it); nothing here depends on what this process saw before.
 */
export class TagHistory implements TagTracker {
  private readonly tags: TagStore;
  /** The alert queue and observations as the console and the admin API read them (the store stays private). */
  readonly alerts: Pick<TagStore, 'listAlerts' | 'queue' | 'countByStatus' | 'alertPlaces' | 'observation'>;
  private readonly now: () => Date;
  private readonly descriptions = new Map<string, ImageDescription>();
  private readonly childrenKnown = new Set<string>();
  private readonly recent = new Map<string, { until: number; decision: TagDecision; key: TagKey }>();
  private readonly pending = new Map<string, ObservationInput>();
  private flushTimer: NodeJS.Timeout | undefined;
  private readonly repeatWindowMs: number;

  constructor(private readonly options: TagHistoryOptions) {
    this.tags = new TagStore(options.store.db);
    this.alerts = this.tags;
    this.now = options.now ?? (() => new Date());
    this.repeatWindowMs = options.repeatWindowMs ?? 0;
  }

  private settings(): TagMutationSettings {
    const s = this.options.settings;
    if (s === undefined) return defaultTagMutationSettings;
    return typeof s === 'function' ? s() : s;
  }

  async observe(obs: TagObservation, signal: AbortSignal): Promise<TagDecision> {
    const key: TagKey = { upstream: obs.route.upstream.host, repository: obs.route.repository, tag: obs.tag };
    const repeatKey = `${key.upstream}\0${key.repository}\0${key.tag}\0${obs.digest}\0${obs.acceptsIndex === true}`;
    const now = this.now();
    const repeat = this.recent.get(repeatKey);
    if (repeat !== undefined && repeat.until > now.getTime()) {
      this.countLater(repeatKey, key, obs, now);
      return repeat.decision;
    }
    const decision = await this.classify(obs, key, signal);
    // Only an unchanged tag is remembered. A move or a pin is decided against the store every time, so a review on
    // any replica takes effect at once; an unchanged tag cannot be changed by a review.
    if (
      this.repeatWindowMs > 0 &&
      decision.kind === 'serve' &&
      (decision.event === 'unchanged' || decision.event === 'first-seen')
    ) {
      const steady: TagDecision = {
        ...decision,
        event: decision.event === 'first-seen' ? 'unchanged' : decision.event,
      };
      this.recent.set(repeatKey, { until: now.getTime() + this.repeatWindowMs, decision: steady, key });
      if (this.recent.size > 10_000) this.recent.delete(this.recent.keys().next().value ?? '');
    }
    return decision;
  }

  /** Writes the sightings counted in memory; called on a timer and when the app closes. */
  async flush(): Promise<void> {
    if (this.flushTimer !== undefined) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    const batch = [...this.pending.values()];
    this.pending.clear();
    for (const o of batch) {
      try {
        await this.tags.recordObservation(o);
      } catch (err) {
        this.options.onError?.(err, 'failed to record tag sightings');
      }
    }
  }

  private countLater(repeatKey: string, key: TagKey, obs: TagObservation, now: Date): void {
    const at = now.toISOString();
    const pending = this.pending.get(repeatKey);
    if (pending !== undefined) {
      pending.count = (pending.count ?? 1) + 1;
      pending.at = at;
    } else {
      this.pending.set(repeatKey, {
        ...key,
        digest: obs.digest,
        mediaType: obs.mediaType,
        kind: kindOf(obs.mediaType),
        at,
        count: 1,
      });
    }
    if (this.flushTimer === undefined) {
      this.flushTimer = setTimeout(() => void this.flush(), this.repeatWindowMs);
      this.flushTimer.unref();
    }
  }

  /** Drops the repeats remembered for a tag: after a review here, or one through another replica (the change feed). */
  forgetRepeats(key: { upstream: string; repository: string; tag: string }): void {
    for (const [k, v] of this.recent) {
      if (v.key.upstream === key.upstream && v.key.repository === key.repository && v.key.tag === key.tag)
        this.recent.delete(k);
    }
  }

  private async classify(obs: TagObservation, key: TagKey, signal: AbortSignal): Promise<TagDecision> {
    const kind = kindOf(obs.mediaType);
    const at = this.now().toISOString();
    await this.tags.recordObservation({ ...key, digest: obs.digest, mediaType: obs.mediaType, kind, at });
    const observedChildren =
      kind === 'index' ? await this.ensureChildren(obs.route, obs.digest, signal) : new Set<string>();

    const states = await this.tags.states(key);
    const approvedIndex = states.find((s) => s.kind === 'index');
    const approvedIndexChildren =
      approvedIndex === undefined
        ? new Set<string>()
        : approvedIndex.approved_digest === obs.digest
          ? observedChildren
          : new Set((await this.tags.children(approvedIndex.approved_digest)).map((c) => c.child_digest));
    const observed: KnownDigest = { digest: obs.digest, kind };
    const cls = classifyObservation(
      { approved: states.map((s) => ({ digest: s.approved_digest, kind: s.kind })), approvedIndexChildren },
      observed,
      observedChildren,
      obs.acceptsIndex === true,
    );

    switch (cls.kind) {
      case 'first-seen': {
        const state = await this.tags.initState(key, kind, obs.digest, obs.mediaType, at);
        if (state.approved_digest === obs.digest)
          return { kind: 'serve', digest: obs.digest, event: 'first-seen' };
        // Another replica saw a different digest first: that one is approved, this is a move.
        return this.moved(obs, key, state, signal);
      }
      case 'unchanged': {
        if (cls.via === 'index-parent')
          await this.tags.initState(key, 'index', obs.digest, obs.mediaType, at);
        return { kind: 'serve', digest: obs.digest, event: 'unchanged' };
      }
      case 'moved': {
        const state = states.find((s) => s.kind === cls.from.kind);
        if (state === undefined) throw new Error('approved state vanished during classification');
        return this.moved(obs, key, state, signal);
      }
    }
  }

  private async moved(
    obs: TagObservation,
    key: TagKey,
    state: TagStateRow,
    signal: AbortSignal,
  ): Promise<TagDecision> {
    const rule = tagMutationRule(this.settings(), key);
    const kind = kindOf(obs.mediaType);
    const at = this.now().toISOString();
    const served = { kind: 'serve', digest: state.approved_digest, event: 'pinned' } as const;

    if (rule.action === 'record') {
      await this.tags.recordApproval(key, kind, obs.digest, obs.mediaType, at);
      return { kind: 'serve', digest: obs.digest, event: 'moved' };
    }

    let alert = await this.tags.findAlert(key, kind, state.generation, obs.digest);
    if (alert === undefined) {
      alert = await this.openAlert(obs, key, state, rule, signal);
    }
    const alertId = String(alert.id);
    if (alert.status === 'approved') return { kind: 'serve', digest: obs.digest, event: 'moved', alertId };
    if (alert.status === 'rejected') return { ...served, alertId };
    // RFC 9111 section 5.5: 299 is a persistent miscellaneous warning; a client (or its operator) learns that the
    // digest served is not the one the upstream names now.
    const awaiting = {
      ...served,
      alertId,
      warning:
        `tag pinned to ${state.approved_digest}: the upstream now points to ${obs.digest}, ` +
        `which awaits review (alert ${alertId})`,
    };
    if (state.pinned === 1) return awaiting;
    switch (rule.action) {
      case 'pin':
        await this.tags.setPinned(key, state.kind, true, at);
        return awaiting;
      case 'deny':
        return {
          kind: 'refuse',
          event: 'moved',
          alertId,
          message:
            `tag-mutation: ${key.repository}:${key.tag} now points to ${obs.digest} instead of the approved ` +
            `${state.approved_digest}; refused until a reviewer approves alert ${alertId}`,
        };
      case 'alert':
        return { kind: 'serve', digest: obs.digest, event: 'moved', alertId };
    }
  }

  private async openAlert(
    obs: TagObservation,
    key: TagKey,
    state: TagStateRow,
    rule: ReturnType<typeof tagMutationRule>,
    signal: AbortSignal,
  ): Promise<AlertRow> {
    const at = this.now().toISOString();
    const [oldSeen, newSeen] = await Promise.all([
      this.tags.observation(key, state.approved_digest),
      this.tags.observation(key, obs.digest),
    ]);
    let diff: unknown;
    try {
      const [a, b] = await Promise.all([
        this.description(obs.route, state.approved_digest, signal),
        this.description(obs.route, obs.digest, signal),
      ]);
      diff = diffImages(a, b);
    } catch (err) {
      this.options.onError?.(err, 'failed to describe images for a tag-mutation diff');
      diff = { error: `could not describe both images: ${errorMessage(err)}` };
    }
    let decision: unknown = null;
    if (this.options.policyDecision !== undefined) {
      try {
        decision = (await this.options.policyDecision(obs.route, obs.digest, signal)) ?? null;
      } catch (err) {
        this.options.onError?.(err, 'failed to evaluate policy for a tag-mutation alert');
      }
    }
    const { alert, created } = await this.tags.openAlert(
      {
        ...key,
        kind: kindOf(obs.mediaType),
        generation: state.generation,
        old_digest: state.approved_digest,
        new_digest: obs.digest,
        old_media_type: state.approved_media_type,
        new_media_type: obs.mediaType,
        old_first_seen: oldSeen?.first_seen ?? null,
        old_last_seen: oldSeen?.last_seen ?? null,
        new_first_seen: newSeen?.first_seen ?? null,
        new_last_seen: newSeen?.last_seen ?? null,
        // A change of kind shows in the diff itself (`kindChanged`, from the two descriptions).
        diff: JSON.stringify(diff),
        decision: decision === null ? null : JSON.stringify(decision),
        action: rule.action,
        severity: raiseSeverity(rule.severity, severityReasons(diff, decision)),
        status: 'open',
        created_at: at,
        updated_at: at,
      },
      this.options.receivers ?? [],
    );
    if (created) this.options.onAlertOpened?.(toAlertView(alert, undefined, this.options.upstreamName));
    return alert;
  }

  /** Records an index's platform manifests once; returns them. */
  private async ensureChildren(
    route: UpstreamRepository,
    digest: string,
    signal: AbortSignal,
  ): Promise<Set<string>> {
    if (!this.childrenKnown.has(digest)) {
      const known = await this.tags.children(digest);
      if (known.length > 0) {
        this.childrenKnown.add(digest);
        return new Set(known.map((c) => c.child_digest));
      }
      try {
        const d = await this.description(route, digest, signal);
        await this.tags.recordChildren(
          digest,
          d.platforms.map((p) => ({ digest: p.digest, mediaType: p.mediaType, platform: p.platform })),
        );
        this.childrenKnown.add(digest);
        return new Set(d.platforms.map((p) => p.digest));
      } catch (err) {
        this.options.onError?.(err, 'failed to record the platform manifests of an index');
        return new Set();
      }
    }
    return new Set((await this.tags.children(digest)).map((c) => c.child_digest));
  }

  private async description(
    route: UpstreamRepository,
    digest: string,
    signal: AbortSignal,
  ): Promise<ImageDescription> {
    const cacheKey = `${route.upstream.host}/${route.repository}@${digest}`;
    const hit = this.descriptions.get(cacheKey);
    if (hit !== undefined) return hit;
    const d = await this.options.describe(route, digest, signal);
    const max = this.options.descriptionCacheSize ?? 256;
    if (this.descriptions.size >= max) {
      const oldest = this.descriptions.keys().next();
      if (oldest.done !== true) this.descriptions.delete(oldest.value);
    }
    this.descriptions.set(cacheKey, d);
    return d;
  }

  async approve(alertId: number, reviewer: string, reason: string, auth?: AuthMethod): Promise<ReviewResult> {
    return this.review(alertId, 'approve', reviewer, reason, auth);
  }

  async reject(alertId: number, reviewer: string, reason: string, auth?: AuthMethod): Promise<ReviewResult> {
    return this.review(alertId, 'reject', reviewer, reason, auth);
  }

  private async review(
    alertId: number,
    action: 'approve' | 'reject',
    reviewer: string,
    reason: string,
    auth: AuthMethod | undefined,
  ): Promise<ReviewResult> {
    const result = await this.tags.review(alertId, action, reviewer, reason, this.now().toISOString(), {
      ...(auth !== undefined ? { auth } : {}),
      receivers: this.options.receivers ?? [],
    });
    if (result.kind === 'reviewed') {
      this.forgetRepeats(result.alert);
      this.options.onAlertReviewed?.(toAlertView(result.alert));
    }
    return result;
  }

  /** Sets a reviewed alert back to open (undoing its review's effect on the tag, see TagStore.reopen). */
  async reopen(alertId: number, reviewer: string, reason: string, auth?: AuthMethod): Promise<ReopenResult> {
    const result = await this.tags.reopen(alertId, reviewer, reason, this.now().toISOString(), {
      ...(auth !== undefined ? { auth } : {}),
      receivers: this.options.receivers ?? [],
    });
    if (result.kind === 'reopened') {
      this.forgetRepeats(result.alert);
      this.options.onAlertReviewed?.(toAlertView(result.alert));
    }
    return result;
  }

  async alert(alertId: number): Promise<AlertView | undefined> {
    const row = await this.tags.alert(alertId);
    if (row === undefined) return undefined;
    return toAlertView(row, await this.tags.reviews(alertId), this.options.upstreamName);
  }

  async history(key: TagKey): Promise<TagHistoryView> {
    await this.flush();
    const [observations, states, alerts] = await Promise.all([
      this.tags.observations(key),
      this.tags.states(key),
      this.tags.alertsForTag(key),
    ]);
    const withChildren = await Promise.all(
      observations.map(async (o) => {
        const base = {
          digest: o.digest,
          mediaType: o.media_type,
          kind: o.kind,
          firstSeen: o.first_seen,
          lastSeen: o.last_seen,
          count: o.count,
        };
        if (o.kind !== 'index') return base;
        const children = await this.tags.children(o.digest);
        return {
          ...base,
          children: children.map((c) => ({
            digest: c.child_digest,
            mediaType: c.media_type,
            platform: c.platform,
          })),
        };
      }),
    );
    const reviews = await Promise.all(alerts.map((a) => this.tags.reviews(a.id)));
    return {
      ...key,
      registry: this.options.upstreamName?.(key.upstream) ?? key.upstream,
      observations: withChildren,
      approved: states.map((s) => ({
        kind: s.kind,
        digest: s.approved_digest,
        mediaType: s.approved_media_type,
        approvedAt: s.approved_at,
        pinned: s.pinned === 1,
      })),
      alerts: alerts.map((a, i) => toAlertView(a, reviews[i], this.options.upstreamName)),
    };
  }
}
