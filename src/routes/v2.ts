import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AuditSink } from '../audit/index.js';
import type { ManifestBytes, ManifestService, TagResolution } from '../cache/manifest-service.js';
import type { WarnedPull } from '../notify/warned-images.js';
import { parseDigest, requireDigest } from '../oci/digest.js';
import { RegistryError } from '../oci/errors.js';
import { distributionApiVersion, header } from '../oci/headers.js';
import { defaultManifestAccept, mediaType } from '../oci/media-types.js';
import { parseRegistryPath, type Reference, referenceString } from '../oci/reference.js';
import type { Metrics } from '../plugins/metrics.js';
import { type BlobAnswer, BlobRefusedError, type BlobService } from '../pull/blob-service.js';
import { type DecisionFacts, decisionRecord, exceptionRecords } from '../pull/decision-record.js';
import type { ManifestGate, Verdict } from '../pull/verdict.js';
import type { TagEvent, TagTracker } from '../tags/tracker.js';
import { firstHeader, requireOk } from '../upstream/client.js';
import type { Route, UpstreamRouter } from '../upstream/router.js';
import { sendRegistryError } from './registry-error-handler.js';
import { clientSignal } from './request-signal.js';

export interface V2Dependencies {
  router: UpstreamRouter;
  manifests: ManifestService;
  blobs: BlobService;
  gate: () => ManifestGate;
  metrics: Metrics;
  tracker: TagTracker;
  /** The store behind the tag history, as named in errors (`postgres host:5432/pullgate`; never credentials). */
  storeName: string;
  audit: AuditSink;
  /** Refuse on HEAD too (by default a refused HEAD answers headers and the GET carries the reason). */
  denyOnHead: boolean;
  /** Told of every served pull that carried warnings (audit mode), once its decision is recorded. */
  onWarned?: (pull: WarnedPull) => void;
  /** Who is pulling: undefined for anonymous. Throws UNAUTHORIZED when credentials are required. */
  authenticate: (request: FastifyRequest) => Promise<string | undefined>;
}

interface Query {
  ns?: string;
  n?: string;
  last?: string;
}

function pathAfterV2(request: FastifyRequest): string {
  const url = request.raw.url ?? '';
  const path = url.split('?', 1)[0] ?? '';
  return path.replace(/^\/v2\//, '');
}

function warningHeader(text: string): string {
  // RFC 7234 §5.5 warn-text is a quoted-string; OCI distribution uses warn-code 299 for registry warnings.
  return `299 - "${text.replace(/["\\]/g, "'").replace(/[\r\n]+/g, ' ')}"`;
}

/** The /v2/ registry API: pulls served through the proxy, writes refused (pullgate is a read-only mirror). */
export async function v2Routes(app: FastifyInstance, deps: V2Dependencies): Promise<void> {
  app.setErrorHandler((err, request, reply) => sendRegistryError(err, request, reply));
  app.setNotFoundHandler((request, reply) =>
    sendRegistryError(new RegistryError('NAME_UNKNOWN', 'unknown registry endpoint'), request, reply),
  );
  app.addHook('onSend', async (_request, reply) => {
    reply.header(header.dockerDistributionApiVersion, distributionApiVersion);
  });
  // pullgate reads no request body here (every write is refused): a body is never parsed, so a malformed one
  // cannot turn a 405 UNSUPPORTED into a parser error.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, _payload, done) => done(null, undefined));

  app.get('/v2/', async (request, reply) => {
    await deps.authenticate(request);
    return reply.type('application/json').send('{}');
  });
  app.head('/v2/', async (request, reply) => {
    await deps.authenticate(request);
    return reply.type('application/json').header(header.contentLength, '2').send();
  });

  const handler = async (request: FastifyRequest<{ Querystring: Query }>, reply: FastifyReply) => {
    const user = await deps.authenticate(request);
    const head = request.method === 'HEAD';
    const path = parseRegistryPath(pathAfterV2(request));
    if (path === undefined) throw new RegistryError('NAME_UNKNOWN', 'unknown registry endpoint');
    const ns = request.query.ns;
    const route = deps.router.route(path.name, ns);
    const signal = clientSignal(request, reply);
    switch (path.kind) {
      case 'manifest':
        return serveManifest(deps, request, reply, {
          route,
          name: path.name,
          reference: path.reference,
          head,
          user,
          signal,
        });
      case 'blob': {
        if (head) {
          const { size } = await deps.blobs.head(route, path.digest, signal);
          reply.header(header.dockerContentDigest, path.digest.value).type('application/octet-stream');
          if (size !== undefined) reply.header(header.contentLength, String(size));
          reply.header(header.acceptRanges, 'bytes');
          return reply.send();
        }
        // The blob service judges blobs that may be image configs for this client (issue 10, path 1). A refusal
        // is a decision like any other: on the record before the client hears of it.
        const started = performance.now();
        let answer: BlobAnswer;
        try {
          answer = await deps.blobs.get(route, path.digest, request.headers.range, signal, {
            address: request.ip,
            user,
          });
        } catch (err) {
          if (err instanceof BlobRefusedError) {
            await recordDecision(deps, request, {
              requestId: request.id,
              client: { address: request.ip, user, userAgent: request.headers['user-agent'] },
              method: 'GET',
              upstream: route.upstream.host,
              repository: route.repository,
              reference: path.digest.value,
              digest: path.digest.value,
              verdict: {
                kind: 'deny',
                message: err.verdict.message,
                findings: err.verdict.findings.map((f) => ({ ...f, mode: 'enforce' as const })),
                policy: {
                  version: err.verdict.policyVersion,
                  names: err.verdict.policyNames,
                  exceptionsApplied: [],
                  exceptionsExpired: [],
                  waived: [],
                  cached: false,
                },
              },
              tagEvent: undefined,
              source: err.source,
              status: 403,
              durationMs: performance.now() - started,
            });
          }
          throw err;
        }
        deps.metrics.blobRequests.inc({ result: answer.source === 'cache' ? 'hit' : 'miss' });
        deps.metrics.bytesServed.inc(
          { kind: 'blob', source: answer.source },
          Number(answer.headers[header.contentLength] ?? 0),
        );
        return reply
          .code(answer.status)
          .headers(answer.headers)
          .header(header.dockerContentDigest, path.digest.value)
          .header(header.acceptRanges, 'bytes')
          .type('application/octet-stream')
          .send(answer.body);
      }
      case 'tags':
        return passThroughListing('tags/list', route, path.name, request, reply, signal);
      case 'referrers':
        return passThroughListing(`referrers/${path.digest.value}`, route, path.name, request, reply, signal);
      case 'uploads':
        throw new RegistryError('UNSUPPORTED', 'pullgate is a read-only pull-through proxy');
    }
  };
  app.get('/v2/*', handler);
  app.head('/v2/*', handler);

  const refuseWrite = async (request: FastifyRequest, reply: FastifyReply) =>
    sendRegistryError(
      new RegistryError(
        'UNSUPPORTED',
        'pullgate is a read-only pull-through proxy: push to the upstream registry',
      ),
      request,
      reply,
    );
  app.route({ method: ['PUT', 'POST', 'PATCH', 'DELETE'], url: '/v2/*', handler: refuseWrite });
  app.route({ method: ['PUT', 'POST', 'PATCH', 'DELETE'], url: '/v2/', handler: refuseWrite });
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

interface ManifestRequest {
  route: Route;
  name: string;
  reference: Reference;
  head: boolean;
  user: string | undefined;
  signal: AbortSignal;
}

async function serveManifest(
  deps: V2Dependencies,
  request: FastifyRequest,
  reply: FastifyReply,
  req: ManifestRequest,
): Promise<FastifyReply> {
  const started = performance.now();
  const accept = manifestAccept(request.headers.accept);
  const client = { address: request.ip, user: req.user, userAgent: request.headers['user-agent'] };
  const reference = referenceString(req.reference);
  let resolution: TagResolution | undefined;
  let tagEvent: TagEvent | undefined;
  let tagWarning: string | undefined;
  let digest = req.reference.kind === 'digest' ? req.reference.digest : undefined;
  const record = (
    verdict: Verdict,
    served: string | undefined,
    source: 'cache' | 'upstream' | 'stale',
    status: number,
  ) =>
    recordDecision(deps, request, {
      requestId: request.id,
      client,
      method: req.head ? 'HEAD' : 'GET',
      upstream: req.route.upstream.host,
      repository: req.route.repository,
      reference,
      digest: served,
      verdict,
      tagEvent,
      source,
      status,
      durationMs: performance.now() - started,
    });

  if (req.reference.kind === 'tag') {
    resolution = await deps.manifests.resolveTag(req.route, req.reference.tag, accept, req.signal);
    const decision = await observeTag(
      deps,
      request,
      {
        route: req.route,
        name: req.name,
        tag: req.reference.tag,
        digest: resolution.digest,
        mediaType: resolution.mediaType,
        source: resolution.source,
        acceptsIndex: acceptsIndex(accept),
      },
      req.signal,
    );
    tagEvent = decision.event;
    if (decision.kind === 'refuse') {
      const verdict: Verdict = {
        kind: 'deny',
        findings: [{ rule: 'tag-mutation', message: decision.message, mode: 'enforce' }],
        message: decision.message,
      };
      return refuse(deps, request, reply, req, verdict, { digest: resolution.digest }, (status) =>
        record(verdict, resolution?.digest, resolution?.source === 'stale' ? 'stale' : 'upstream', status),
      );
    }
    digest = parseDigest(decision.digest);
    tagWarning = decision.warning;
  }
  if (digest === undefined) {
    throw new RegistryError('UNAVAILABLE', 'upstream answered with an invalid digest', { status: 502 });
  }
  const manifest = await deps.manifests.getByDigest(req.route, digest, accept, req.signal);
  const source = resolution?.source === 'stale' ? 'stale' : manifest.source;
  const verdict = await deps.gate().judge({
    route: req.route,
    name: req.name,
    reference: req.reference,
    manifest,
    client,
    method: req.head ? 'HEAD' : 'GET',
    signal: req.signal,
  });
  if (verdict.kind === 'deny') {
    return refuse(deps, request, reply, req, verdict, { digest: manifest.digest, manifest }, (status) =>
      record(verdict, manifest.digest, source, status),
    );
  }
  const warnings = verdict.kind === 'warn' ? [...verdict.warnings] : [];
  if (tagWarning !== undefined) warnings.push(tagWarning);
  if (resolution?.source === 'stale') {
    warnings.push(
      `upstream unavailable; serving the last known digest for this tag (${resolution.staleReason ?? 'error'})`,
    );
  }
  // The record is on disk before the client gets the answer (issue: durable decisions).
  await record(verdict, manifest.digest, source, 200);
  describeManifest(reply, manifest).header(header.etag, `"${manifest.digest}"`);
  if (warnings.length > 0) reply.header(header.warning, warnings.map(warningHeader));
  if (req.head) return reply.send();
  deps.metrics.bytesServed.inc({ kind: 'manifest', source }, manifest.bytes.length);
  return reply.send(manifest.bytes);
}

/**
 * A refused manifest. GET answers 403 DENIED with the reason. A HEAD cannot carry a reason (it has no body), and
 * containerd then shows a bare "403", so by default a refused HEAD answers the headers and the refusal comes on
 * the GET that follows, where every client prints the message (DESIGN.md, "What real clients do"). Nothing is
 * served either way: the bytes only ever go out on a GET.
 */
async function refuse(
  deps: V2Dependencies,
  request: FastifyRequest,
  reply: FastifyReply,
  req: ManifestRequest,
  verdict: Extract<Verdict, { kind: 'deny' }>,
  target: { digest: string; manifest?: ManifestBytes },
  record: (status: number) => Promise<void>,
): Promise<FastifyReply> {
  if (req.head && !deps.denyOnHead) {
    // A refused tag (tag-mutation) has not fetched its manifest yet; a refused image already has.
    const manifest =
      target.manifest ??
      (await deps.manifests.getByDigest(
        req.route,
        requireDigest(target.digest),
        manifestAccept(request.headers.accept),
        req.signal,
      ));
    await record(200);
    return describeManifest(reply, manifest)
      .header(header.warning, warningHeader(`refused on GET: ${verdict.message}`))
      .send();
  }
  await record(403);
  throw new RegistryError('DENIED', verdict.message, {
    detail: {
      reference: referenceString(req.reference),
      digest: target.digest,
      findings: verdict.findings.map((f) => ({
        rule: f.rule,
        ...(f.key !== undefined ? { key: f.key } : {}),
      })),
    },
  });
}

/** The headers that describe a manifest's exact bytes (distribution-spec: HEAD answers them as GET would). */
function describeManifest(reply: FastifyReply, manifest: ManifestBytes): FastifyReply {
  return reply
    .header(header.contentType, manifest.mediaType)
    .header(header.contentLength, String(manifest.bytes.length))
    .header(header.dockerContentDigest, manifest.digest);
}

/**
 * A pull by tag needs the tag history: it says whether the tag is pinned, moved or refused. When the store cannot
 * be read the pull is refused (503 naming the store), never served as if the tag were unpinned. Upstream errors
 * (the describer fetches for a new alert) keep their own mapping.
 */
async function observeTag(
  deps: V2Dependencies,
  request: FastifyRequest,
  observation: Parameters<TagTracker['observe']>[0],
  signal: AbortSignal,
): Promise<Awaited<ReturnType<TagTracker['observe']>>> {
  try {
    return await deps.tracker.observe(observation, signal);
  } catch (err) {
    if (err instanceof RegistryError || signal.aborted) throw err;
    request.log.error({ err }, 'failed to read the tag history');
    throw new RegistryError('UNAVAILABLE', `the tag history store is unavailable (${deps.storeName})`, {
      status: 503,
      detail: { store: deps.storeName },
      cause: err,
    });
  }
}

async function recordDecision(
  deps: V2Dependencies,
  request: FastifyRequest,
  facts: DecisionFacts,
): Promise<void> {
  try {
    // Appended together, in order, so they share one synchronous write instead of waiting one after another.
    await Promise.all([...exceptionRecords(facts), decisionRecord(facts)].map((r) => deps.audit.append(r)));
    countDecision(deps.metrics, facts);
    const policy = facts.verdict.policy;
    if (facts.verdict.kind === 'warn' && facts.digest !== undefined && policy !== undefined) {
      deps.onWarned?.({
        upstream: facts.upstream,
        repository: facts.repository,
        reference: facts.reference,
        digest: facts.digest,
        policyVersion: policy.version,
        findings: facts.verdict.findings.map((f) => ({ rule: f.rule, key: f.key })),
      });
    }
  } catch (err) {
    // A decision that cannot be recorded is not answered: the log's promise is that every answer is in it.
    request.log.error({ err }, 'failed to record decision');
    const code = (err as { code?: unknown }).code;
    throw new RegistryError(
      'UNAVAILABLE',
      `decision log unavailable${typeof code === 'string' ? ` (${code})` : ''}: nothing is served unrecorded`,
      { status: 503 },
    );
  }
}

/** Counted once recorded, so the metrics agree with the log: audit-mode findings show as mode="audit". */
function countDecision(metrics: Metrics, facts: DecisionFacts): void {
  metrics.decisions.inc({ decision: facts.verdict.kind, method: facts.method, status: String(facts.status) });
  for (const f of facts.verdict.findings) metrics.findings.inc({ rule: f.rule, mode: f.mode ?? 'enforce' });
}

/**
 * tags/list and referrers pass through with their query: listings pullgate neither judges nor caches. A
 * next-page Link names the upstream's own repository path; it is rewritten so the client comes back through
 * pullgate.
 */
async function passThroughListing(
  listing: 'tags/list' | `referrers/${string}`,
  route: Route,
  name: string,
  request: FastifyRequest<{ Querystring: Query }>,
  reply: FastifyReply,
  signal: AbortSignal,
): Promise<FastifyReply> {
  const params = new URLSearchParams();
  const raw = new URLSearchParams((request.raw.url ?? '').split('?')[1] ?? '');
  for (const [key, value] of raw) if (key !== 'ns') params.append(key, value);
  const qs = params.toString();
  const res = await route.upstream.request({
    method: request.method === 'HEAD' ? 'HEAD' : 'GET',
    path: `/v2/${route.repository}/${listing}${qs ? `?${qs}` : ''}`,
    repository: route.repository,
    headers: request.headers.accept ? { accept: request.headers.accept } : {},
    signal,
  });
  await requireOk(res, listing === 'tags/list' ? 'tags' : 'manifest', route.upstream.name);
  const link = firstHeader(res.headers[header.link]);
  if (link !== undefined) {
    const ns = request.query.ns;
    const rewritten = link.replace(/<([^>]*)>/, (_m, target: string) => {
      const url = new URL(target, 'http://upstream.invalid');
      const next = new URLSearchParams(url.search);
      if (ns !== undefined) next.set('ns', ns);
      return `</v2/${name}/${listing}?${next.toString()}>`;
    });
    reply.header(header.link, rewritten);
  }
  const type = firstHeader(res.headers[header.contentType]) ?? 'application/json';
  reply.type(type);
  const length = firstHeader(res.headers[header.contentLength]);
  if (length !== undefined) reply.header(header.contentLength, length);
  return reply.send(res.body);
}
