import type { FastifyBaseLogger } from 'fastify';
import type { ManifestBytes, ManifestService, TagResolution } from '../cache/manifest-service.js';
import { type Digest, parseDigest, requireDigest } from '../oci/digest.js';
import { RegistryError } from '../oci/errors.js';
import { defaultManifestAccept, mediaType } from '../oci/media-types.js';
import { type Reference, referenceString } from '../oci/reference.js';
import type { TagEvent, TagObservation, TagTracker } from '../tags/tracker.js';
import { UpstreamError } from '../upstream/errors.js';
import type { UpstreamRepository } from '../upstream/router.js';
import { InvalidUpstreamDigestError, PullUnavailableError } from './errors.js';
import type { DecisionRecorder } from './record-decision.js';
import type { ManifestGate, Verdict } from './verdict.js';

export interface PullManifestDependencies {
  manifests: Pick<ManifestService, 'resolveTag' | 'getByDigest'>;
  /** Read per pull: the gate in force now. */
  gate: () => ManifestGate;
  tags: TagTracker;
  recorder: DecisionRecorder;
  /** The store behind the tag history, as named in errors (`postgres host:5432/pullgate`; never credentials). */
  storeName: string;
  /** Refuse on HEAD too (by default a refused HEAD answers headers and the GET carries the reason). */
  denyOnHead: boolean;
}

export interface ManifestPull {
  requestId: string;
  route: UpstreamRepository;
  /** The repository name as the client wrote it. */
  name: string;
  reference: Reference;
  method: 'GET' | 'HEAD';
  /** The client's Accept header, as sent. */
  accept: string | undefined;
  client: { address: string; user: string | undefined; userAgent: string | undefined };
  signal: AbortSignal;
  log: FastifyBaseLogger;
}

/** What a manifest pull comes to, once its decision is on the record. */
export type PulledManifest =
  /** Served: the bytes (a GET) or their headers (a HEAD), with any warnings for the client. */
  | { kind: 'serve'; manifest: ManifestBytes; source: 'cache' | 'upstream' | 'stale'; warnings: string[] }
  /**
   * A refused image asked with HEAD: the headers are answered and the refusal comes on the GET that follows, where
   * every client prints the reason (DESIGN.md, "What real clients do"). Nothing is served: bytes only go on a GET.
   */
  | { kind: 'refuse-on-get'; manifest: ManifestBytes; message: string }
  | {
      kind: 'refused';
      message: string;
      reference: string;
      digest: string;
      findings: { rule: string; key?: string }[];
    };

/**
 * A manifest pull, top to bottom: a tag is resolved upstream (or from the tag window) and put to the tag history,
 * which may pin or refuse it; the digest's manifest is fetched (or read from the cache, verified); the gate judges
 * it; the decision is recorded; then the caller answers.
 */
export async function pullManifest(
  deps: PullManifestDependencies,
  pull: ManifestPull,
): Promise<PulledManifest> {
  const started = performance.now();
  const accept = manifestAccept(pull.accept);
  const reference = referenceString(pull.reference);
  let resolution: TagResolution | undefined;
  let tagEvent: TagEvent | undefined;
  let tagWarning: string | undefined;
  let digest: Digest | undefined = pull.reference.kind === 'digest' ? pull.reference.digest : undefined;
  const record = (
    verdict: Verdict,
    served: string | undefined,
    source: 'cache' | 'upstream' | 'stale',
    status: number,
  ) =>
    deps.recorder.record({
      requestId: pull.requestId,
      client: pull.client,
      method: pull.method,
      upstream: pull.route.upstream.host,
      repository: pull.route.repository,
      reference,
      digest: served,
      verdict,
      tagEvent,
      source,
      status,
      durationMs: performance.now() - started,
    });
  const refuse = async (
    verdict: Extract<Verdict, { kind: 'deny' }>,
    target: { digest: string; manifest?: ManifestBytes },
    source: 'cache' | 'upstream' | 'stale',
  ): Promise<PulledManifest> => {
    if (pull.method === 'HEAD' && !deps.denyOnHead) {
      // A refused tag (tag-mutation) has not fetched its manifest yet; a refused image already has.
      const manifest =
        target.manifest ??
        (await deps.manifests.getByDigest(pull.route, requireDigest(target.digest), accept, pull.signal));
      await record(verdict, target.digest, source, 200);
      return { kind: 'refuse-on-get', manifest, message: verdict.message };
    }
    await record(verdict, target.digest, source, 403);
    return {
      kind: 'refused',
      message: verdict.message,
      reference,
      digest: target.digest,
      findings: verdict.findings.map((f) => ({
        rule: f.rule,
        ...(f.key !== undefined ? { key: f.key } : {}),
      })),
    };
  };

  if (pull.reference.kind === 'tag') {
    resolution = await deps.manifests.resolveTag(pull.route, pull.reference.tag, accept, pull.signal);
    const decision = await observeTag(
      deps,
      pull,
      {
        route: pull.route,
        name: pull.name,
        tag: pull.reference.tag,
        digest: resolution.digest,
        mediaType: resolution.mediaType,
        source: resolution.source,
        acceptsIndex: acceptsIndex(accept),
      },
      pull.signal,
    );
    tagEvent = decision.event;
    if (decision.kind === 'refuse') {
      const verdict: Verdict = {
        kind: 'deny',
        findings: [{ rule: 'tag-mutation', message: decision.message, mode: 'enforce' }],
        message: decision.message,
      };
      return refuse(
        verdict,
        { digest: resolution.digest },
        resolution.source === 'stale' ? 'stale' : 'upstream',
      );
    }
    digest = parseDigest(decision.digest);
    tagWarning = decision.warning;
  }
  if (digest === undefined) {
    throw new InvalidUpstreamDigestError();
  }
  const manifest = await deps.manifests.getByDigest(pull.route, digest, accept, pull.signal);
  const source = resolution?.source === 'stale' ? 'stale' : manifest.source;
  const verdict = await deps.gate().judge({
    route: pull.route,
    name: pull.name,
    reference: pull.reference,
    manifest,
    client: pull.client,
    method: pull.method,
    signal: pull.signal,
  });
  if (verdict.kind === 'deny') return refuse(verdict, { digest: manifest.digest, manifest }, source);
  const warnings = verdict.kind === 'warn' ? [...verdict.warnings] : [];
  if (tagWarning !== undefined) warnings.push(tagWarning);
  if (resolution?.source === 'stale') {
    warnings.push(
      `upstream unavailable; serving the last known digest for this tag (${resolution.staleReason ?? 'error'})`,
    );
  }
  // The record is on disk before the client gets the answer (issue: durable decisions).
  await record(verdict, manifest.digest, source, 200);
  return { kind: 'serve', manifest, source, warnings };
}

/**
 * The client's Accept is forwarded so the upstream negotiates as it would for the client (an old client gets a
 * schema 2 manifest, not an index). An Accept that names no manifest type (curl's `*\/*`) would make
 * distribution answer 404 for OCI manifests, so it is replaced by every type a modern client understands.
 */
function manifestAccept(accept: string | undefined): string {
  if (accept !== undefined && /application\/vnd\.(?:oci|docker)\./.test(accept)) return accept;
  return defaultManifestAccept;
}

function acceptsIndex(accept: string): boolean {
  return accept.includes(mediaType.ociIndex) || accept.includes(mediaType.dockerManifestList);
}

/**
 * A pull by tag needs the tag history: it says whether the tag is pinned, moved or refused. When the store cannot
 * be read the pull is refused (503 naming the store), never served as if the tag were unpinned. Upstream errors
 * (the describer fetches for a new alert) keep their own mapping.
 */
async function observeTag(
  deps: PullManifestDependencies,
  pull: ManifestPull,
  observation: TagObservation,
  signal: AbortSignal,
): Promise<Awaited<ReturnType<TagTracker['observe']>>> {
  try {
    return await deps.tags.observe(observation, signal);
  } catch (err) {
    // An upstream's own failure (or a bad reference) is that, not a broken store.
    if (err instanceof UpstreamError || err instanceof RegistryError || signal.aborted) throw err;
    pull.log.error({ err }, 'failed to read the tag history');
    throw new PullUnavailableError(
      'tag-history',
      `the tag history store is unavailable (${deps.storeName})`,
      { store: deps.storeName },
      { cause: err },
    );
  }
}
