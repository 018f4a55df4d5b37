import { LRUCache } from 'lru-cache';
import { Coalescer } from '../cache/coalesce.js';
import { parseImageReference } from '../cli/image-source.js';
import type { Approval, BaseState, DeclaredBase, ReferenceFacts } from '../policy/rules/index.js';
import type { AlertRow, TagObservationRow } from '../store/schema.js';
import type { TagKey, TagStore } from '../store/tag-store.js';
import type { UpstreamRepository } from '../upstream/router.js';

type Tags = Pick<
  TagStore,
  'states' | 'observations' | 'alertsForTag' | 'reviews' | 'children' | 'rejectedAlert'
>;

export interface PullFactsDependencies {
  /** The tag store; a function because the store opens after the gate is built. */
  tags: () => Tags | undefined;
  /**
   * The route to a base image's repository on the registry its name names (`docker.io`, `ghcr.io`): the same
   * router the pulls use. Throws for a registry pullgate does not proxy.
   */
  route: (host: string, repository: string) => UpstreamRepository;
  /** One fresh resolution of a tag at its upstream: a HEAD, never a pull. */
  resolveUpstream: (
    route: UpstreamRepository,
    tag: string,
    signal: AbortSignal,
  ) => Promise<{ digest: string; mediaType: string }>;
  /** The platform manifests of an index (its manifest only), for a base tag that points to an index. */
  indexChildren: (
    route: UpstreamRepository,
    digest: string,
    mediaType: string,
    signal: AbortSignal,
  ) => Promise<string[]>;
  /** How long an upstream answer about a base tag is reused. Default 600 s. */
  upstreamCacheSeconds?: number;
  /** At most this many upstream HEADs for base tags per upstream per minute. Default 30. */
  upstreamHeadsPerMinute?: number;
  now?: () => number;
}

interface UpstreamAnswer {
  digest: string;
  children: string[];
  at: number;
}

/**
 * Fetches what the pull rules judge, before they run (the rules are pure): the tag history of the reference
 * asked for, and what a declared base's tag points to now. Upstream lookups of base tags are cached, coalesced and
 * rate-limited per upstream, so a burst of pulls of images on one base costs one HEAD.
 */
export class PullFactsSource {
  // Bounded by eviction (node-cache's maxKeys threw once full).
  private readonly answers = new LRUCache<string, UpstreamAnswer>({ max: 10_000 });
  private readonly asking = new Coalescer<UpstreamAnswer>();
  private readonly budget = new Map<string, { windowStart: number; used: number }>();
  private readonly now: () => number;

  constructor(private readonly deps: PullFactsDependencies) {
    this.now = deps.now ?? Date.now;
  }

  close(): void {
    this.answers.clear();
  }

  private tags(): Tags {
    const tags = this.deps.tags();
    if (tags === undefined) throw new Error('the tag store is not open');
    return tags;
  }

  /** A pull by tag: the digest served, its approval, and the upstream's digest while the tag is pinned. */
  async tagFacts(key: TagKey, name: string, served: string): Promise<ReferenceFacts> {
    const [states, observations] = await Promise.all([
      this.tags().states(key),
      this.tags().observations(key),
    ]);
    const state = states.find((s) => s.approved_digest === served);
    let approval: Approval | undefined;
    if (state !== undefined) {
      approval = { at: state.approved_at, by: await this.approver(key, served) };
    }
    const pinned = states.find((s) => s.pinned === 1);
    const latest = latestObservation(observations);
    return {
      kind: 'tag',
      name,
      tag: key.tag,
      served,
      approval,
      pendingUpstream:
        pinned !== undefined && latest !== undefined && latest.digest !== served ? latest.digest : undefined,
    };
  }

  /** A pull by digest: whether a reviewer rejected it (or its index) for a tag of the repository. */
  async digestFacts(
    upstream: string,
    repository: string,
    name: string,
    digest: string,
  ): Promise<ReferenceFacts> {
    const alert = await this.tags().rejectedAlert(upstream, repository, digest);
    if (alert === undefined) return { kind: 'digest', name, digest };
    const key = { upstream, repository, tag: alert.tag };
    const states = await this.tags().states(key);
    // Approved since (a later alert for the same digest): no longer rejected.
    if (states.some((s) => s.approved_digest === alert.new_digest)) return { kind: 'digest', name, digest };
    const review = (await this.tags().reviews(alert.id)).find((r) => r.action === 'reject');
    return {
      kind: 'digest',
      name,
      digest,
      rejected: {
        tag: alert.tag,
        at: review?.created_at ?? alert.updated_at,
        by: review?.reviewer ?? 'a reviewer',
        approved: states.find((s) => s.kind === alert.kind)?.approved_digest,
      },
    };
  }

  /** What the declared base's tag points to now: the tag history, or (checkUpstream) its upstream first. */
  async baseState(base: DeclaredBase, checkUpstream: boolean, signal: AbortSignal): Promise<BaseState> {
    const ref = parseImageReference(base.name);
    if (ref === undefined) return { kind: 'unknown', why: 'the base name is not an image reference' };
    if (ref.tag === undefined) return { kind: 'untagged' };
    const tag = ref.tag;
    let route: UpstreamRepository;
    try {
      route = this.deps.route(ref.host, ref.repository);
    } catch {
      return { kind: 'unknown', why: `pullgate has no upstream for registry ${ref.host}` };
    }
    const key = { upstream: route.upstream.host, repository: route.repository, tag };
    const observations = await this.tags().observations(key);
    if (checkUpstream) {
      const answer = await this.upstreamAnswer(route, tag, signal).catch(() => undefined);
      if (answer !== undefined) {
        const seen = observations.find((o) => o.digest === answer.digest);
        return {
          kind: 'known',
          digest: answer.digest,
          children: answer.children,
          firstSeen: seen?.first_seen,
          source: 'upstream',
        };
      }
    }
    const latest = latestObservation(observations);
    if (latest === undefined) {
      return {
        kind: 'unknown',
        why: checkUpstream
          ? `${route.upstream.host}/${route.repository}:${tag} is not in the tag history and its upstream did not answer`
          : `${route.upstream.host}/${route.repository}:${tag} is not in the tag history`,
      };
    }
    const children =
      latest.kind === 'index' ? (await this.tags().children(latest.digest)).map((c) => c.child_digest) : [];
    // A client that does not accept an index records the platform manifest it got for the tag: the base's own
    // index then still is what the tag points to.
    const baseChildren = (await this.tags().children(base.digest)).map((c) => c.child_digest);
    if (baseChildren.includes(latest.digest)) children.push(base.digest);
    return {
      kind: 'known',
      digest: latest.digest,
      children,
      firstSeen: latest.first_seen,
      source: 'history',
    };
  }

  private async approver(key: TagKey, digest: string): Promise<string | undefined> {
    const alerts = await this.tags().alertsForTag(key);
    const approved: AlertRow | undefined = alerts
      .filter((a) => a.status === 'approved' && a.new_digest === digest)
      .at(-1);
    if (approved === undefined) return undefined;
    return (await this.tags().reviews(approved.id)).find((r) => r.action === 'approve')?.reviewer;
  }

  private async upstreamAnswer(
    route: UpstreamRepository,
    tag: string,
    signal: AbortSignal,
  ): Promise<UpstreamAnswer> {
    const key = `${route.upstream.host}/${route.repository}:${tag}`;
    const ttlMs = (this.deps.upstreamCacheSeconds ?? 600) * 1000;
    const known = this.answers.get(key);
    if (known !== undefined && this.now() - known.at < ttlMs) return known;
    if (!this.spend(route.upstream.host)) {
      // Over the budget: an older answer beats none; without one the history decides.
      if (known !== undefined) return known;
      throw new Error('upstream lookups of base tags are rate-limited');
    }
    return this.asking.run(key, signal, async (shared) => {
      const resolved = await this.deps.resolveUpstream(route, tag, shared);
      const children = await this.deps.indexChildren(route, resolved.digest, resolved.mediaType, shared);
      const answer = { digest: resolved.digest, children, at: this.now() };
      // Kept past its freshness so a rate-limited lookup can still use it.
      this.answers.set(key, answer, { ttl: Math.max(1000, ttlMs * 6) });
      return answer;
    });
  }

  private spend(host: string): boolean {
    const limit = this.deps.upstreamHeadsPerMinute ?? 30;
    const now = this.now();
    const b = this.budget.get(host);
    if (b === undefined || now - b.windowStart >= 60_000) {
      this.budget.set(host, { windowStart: now, used: 1 });
      return limit > 0;
    }
    if (b.used >= limit) return false;
    b.used++;
    return true;
  }
}

/** The digest the tag was seen pointing to last: what it points to now, as far as pullgate knows. */
function latestObservation(observations: readonly TagObservationRow[]): TagObservationRow | undefined {
  let latest: TagObservationRow | undefined;
  for (const o of observations) if (latest === undefined || o.last_seen > latest.last_seen) latest = o;
  return latest;
}
