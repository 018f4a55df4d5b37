import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import {
  type DecisionFilters,
  type DecisionRecord,
  InvalidQueryError,
  type LatestCheckpoint,
  type RecordPage,
} from '../audit/index.js';
import { BREAK_GLASS_NAME, hasRole, type Principal } from '../auth/principal.js';
import type { OciErrorCode } from '../oci/errors.js';
import { StoreUnavailableError } from '../store/open.js';
import type { Role } from '../store/schema.js';
import type { ReopenResult, ReviewResult } from '../store/tag-store.js';
import type { TokenStore } from '../store/token-store.js';
import { toAlertView, type UpstreamNamer } from '../tags/alert-view.js';
import type { TagHistory } from '../tags/history.js';
import type { Review } from '../tags/record-review.js';

export interface AdminDependencies {
  history: TagHistory;
  /** PULLGATE_ADMIN_TOKEN, the break-glass credential; reviews made with it are recorded as `break-glass`. */
  token: string | undefined;
  /** Personal API tokens; without them (and without `token`) the admin API refuses every request. */
  tokens?: TokenStore;
  now?: () => Date;
  /**
   * Maps a repository name as a client writes it (`nginx`, `ghcr.io/org/app`) to the upstream and the repository
   * on it, for `/admin/tags/history?name=`. Wire it to the upstream router.
   */
  resolveName?: (name: string) => { upstream: string; repository: string };
  /** How alerts name an upstream key (the default upstream by its own host unless it is Docker Hub). */
  upstreamName?: UpstreamNamer;
  /** Upstream assumed when a history query gives a repository but no upstream. */
  defaultUpstream?: string;
  /** Records a review in the decision log; the review is only answered once this resolves. */
  onReviewed?: (review: Review) => Promise<void>;
  /** Queries the decision log (`GET /admin/decisions`). */
  decisions?: (filters: DecisionFilters) => Promise<RecordPage<DecisionRecord>>;
  /** The decision log's latest checkpoint (`GET /admin/log/checkpoint`). */
  checkpoint?: () => LatestCheckpoint | undefined;
}

export class AdminError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'AdminError';
  }
}

/**
 * Admin errors are OCI error bodies like every other answer (`errors[].code` from the OCI table, the admin code in
 * `detail.code`), and keep the `error` object the CLI and earlier tools read.
 */
function sendError(reply: FastifyReply, status: number, code: string, message: string): FastifyReply {
  return reply
    .code(status)
    .type('application/json')
    .send({
      errors: [{ code: ociCodeFor(status), message, detail: { code } }],
      error: { code, message },
    });
}

function ociCodeFor(status: number): OciErrorCode {
  if (status === 401) return 'UNAUTHORIZED';
  if (status === 403) return 'DENIED';
  if (status === 404) return 'NAME_UNKNOWN';
  if (status === 405 || status === 415 || status === 413) return 'UNSUPPORTED';
  if (status === 429) return 'TOOMANYREQUESTS';
  if (status === 503 || status === 502 || status === 504) return 'UNAVAILABLE';
  if (status >= 500) return 'UNKNOWN';
  return 'NAME_INVALID';
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

function issues(error: z.ZodError): string {
  return error.issues
    .map((i) => (i.path.length > 0 ? `${i.path.join('.')}: ${i.message}` : i.message))
    .join('; ');
}

function parse<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const result = schema.safeParse(value);
  if (!result.success) throw new AdminError(400, 'BAD_REQUEST', `invalid ${what}: ${issues(result.error)}`);
  return result.data;
}

const idParams = z.strictObject({
  id: z
    .string()
    .regex(/^[1-9]\d{0,15}$/, 'alert id must be a positive integer')
    .transform(Number),
});

// No reviewer field: the reviewer is whoever the credentials prove, never a name the client typed.
const reviewBody = z.strictObject({
  reason: z.string().trim().min(1, 'reason is required').max(4000),
});

const tokenBody = z.strictObject({
  name: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$/, 'name must be 1-100 letters, digits, ".", "_", "@" or "-"'),
  role: z.enum(['viewer', 'reviewer', 'admin']).default('reviewer'),
  /** Days until the token stops working (default 90, at most 366). */
  expiresInDays: z.number().int().min(1).max(366).default(90),
});

const tokenIdParams = z.strictObject({
  id: z
    .string()
    .regex(/^[1-9]\d{0,15}$/, 'token id must be a positive integer')
    .transform(Number),
});

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the admin API's authentication hook. */
    principal?: Principal;
  }
}

function need(request: FastifyRequest, role: Role): Principal {
  const p = request.principal;
  if (p === undefined || !hasRole(p, role)) {
    throw new AdminError(403, 'FORBIDDEN', `this needs the ${role} role`);
  }
  return p;
}

const listQuery = z.strictObject({
  status: z.enum(['open', 'approved', 'rejected']).optional(),
  upstream: z.string().min(1).optional(),
  repository: z.string().min(1).optional(),
  tag: z.string().min(1).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z
    .string()
    .regex(/^[1-9]\d{0,15}$/, 'cursor must be the nextCursor of a previous page')
    .transform(Number)
    .optional(),
});

const decisionsQuery = z.strictObject({
  repository: z.string().min(1).optional(),
  digest: z.string().min(1).optional(),
  decision: z.enum(['allow', 'warn', 'deny']).optional(),
  rule: z.string().min(1).optional(),
  client: z.string().min(1).optional(),
  since: z.string().min(1).optional(),
  until: z.string().min(1).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  cursor: z.string().min(1).optional(),
});

const checkpointQuery = z.strictObject({ format: z.enum(['note', 'json']).default('note') });

const historyQuery = z
  .strictObject({
    upstream: z.string().min(1).optional(),
    repository: z.string().min(1).optional(),
    name: z.string().min(1).optional(),
    tag: z.string().min(1, 'tag is required'),
  })
  .refine((q) => q.repository !== undefined || q.name !== undefined, 'repository (or name) is required');

/**
 * The reviewer's JSON API under /admin. Every request needs `Authorization: Bearer` with a personal API token
 * (its name and role) or the break-glass PULLGATE_ADMIN_TOKEN (role admin, recorded as `break-glass`); with
 * neither configured nothing is served at all, so an unconfigured install cannot be reviewed by anyone.
 */
export async function adminRoutes(app: FastifyInstance, deps: AdminDependencies): Promise<void> {
  await app.register(
    async (admin) => {
      const expected = deps.token !== undefined && deps.token !== '' ? sha256(deps.token) : undefined;

      admin.setErrorHandler((err: FastifyError, request, reply) => {
        if (err instanceof AdminError) return sendError(reply, err.status, err.code, err.message);
        if (err instanceof StoreUnavailableError)
          return sendError(reply, 503, 'STORE_UNAVAILABLE', err.message);
        const status = err.statusCode ?? 500;
        if (status >= 400 && status < 500) {
          // Fastify's own refusals (malformed JSON, wrong content type, body too large).
          return sendError(reply, status, 'BAD_REQUEST', err.message);
        }
        request.log.error({ err }, 'failed to answer an admin request');
        return sendError(reply, 500, 'INTERNAL', 'internal error');
      });
      admin.setNotFoundHandler((_request, reply) =>
        sendError(reply, 404, 'NOT_FOUND', 'unknown admin endpoint'),
      );

      admin.addHook('onRequest', async (request, reply) => {
        if (expected === undefined && deps.tokens === undefined) {
          return sendError(
            reply,
            403,
            'ADMIN_DISABLED',
            'the admin API is disabled: set PULLGATE_ADMIN_TOKEN on the server to enable it',
          );
        }
        const presented = /^Bearer\s+(.+)$/i.exec(request.headers.authorization ?? '')?.[1]?.trim();
        if (presented !== undefined) {
          // Hashing first gives equal lengths, so timingSafeEqual compares without leaking the token's length.
          if (expected !== undefined && timingSafeEqual(sha256(presented), expected)) {
            request.principal = { name: BREAK_GLASS_NAME, role: 'admin', via: 'admin-token' };
            return undefined;
          }
          const token = await deps.tokens?.verify(presented, deps.now?.() ?? new Date());
          if (token !== undefined) {
            request.principal = { name: token.name, role: token.role, via: 'token' };
            return undefined;
          }
        }
        reply.header('www-authenticate', 'Bearer realm="pullgate-admin"');
        return sendError(reply, 401, 'UNAUTHORIZED', 'a valid admin bearer token is required');
      });

      admin.get('/alerts', async (request: FastifyRequest) => {
        const q = parse(listQuery, request.query, 'query');
        const rows = await deps.history.alerts.listAlerts({
          status: q.status,
          upstream: q.upstream,
          repository: q.repository,
          tag: q.tag,
          before: q.cursor,
          limit: q.limit,
        });
        const last = rows[rows.length - 1];
        return {
          alerts: rows.map((r) => {
            const { diff: _diff, ...rest } = toAlertView(r, undefined, deps.upstreamName);
            return rest;
          }),
          nextCursor: rows.length === q.limit && last !== undefined ? String(last.id) : null,
        };
      });

      admin.get('/alerts/:id', async (request: FastifyRequest) => {
        const { id } = parse(idParams, request.params, 'alert id');
        const alert = await deps.history.alert(id);
        if (alert === undefined) throw new AdminError(404, 'ALERT_NOT_FOUND', `alert ${id} does not exist`);
        return alert;
      });

      const review = (action: 'approve' | 'reject') => async (request: FastifyRequest) => {
        const reviewer = need(request, 'reviewer');
        const { id } = parse(idParams, request.params, 'alert id');
        const body = parse(reviewBody, request.body ?? undefined, 'body (expected JSON {"reason": "..."})');
        const result: ReviewResult =
          action === 'approve'
            ? await deps.history.approve(id, reviewer.name, body.reason, reviewer.via)
            : await deps.history.reject(id, reviewer.name, body.reason, reviewer.via);
        switch (result.kind) {
          case 'not-found':
            throw new AdminError(404, 'ALERT_NOT_FOUND', `alert ${id} does not exist`);
          case 'already-reviewed':
            throw new AdminError(409, 'ALREADY_REVIEWED', `alert ${id} was already ${result.alert.status}`);
          case 'reviewed': {
            request.log.info(
              { alertId: id, action, reviewer: reviewer.name, via: reviewer.via },
              'tag-mutation alert reviewed',
            );
            const alert = await deps.history.alert(id);
            if (alert !== undefined) {
              await deps.onReviewed?.({
                requestId: request.id,
                alert,
                action,
                reviewer,
                reason: body.reason,
              });
            }
            return alert;
          }
        }
      };
      admin.post('/alerts/:id/approve', review('approve'));
      admin.post('/alerts/:id/reject', review('reject'));
      admin.post('/alerts/:id/reopen', async (request: FastifyRequest) => {
        const reviewer = need(request, 'reviewer');
        const { id } = parse(idParams, request.params, 'alert id');
        const body = parse(reviewBody, request.body ?? undefined, 'body (expected JSON {"reason": "..."})');
        const result: ReopenResult = await deps.history.reopen(id, reviewer.name, body.reason, reviewer.via);
        switch (result.kind) {
          case 'not-found':
            throw new AdminError(404, 'ALERT_NOT_FOUND', `alert ${id} does not exist`);
          case 'not-reviewed':
            throw new AdminError(409, 'NOT_REVIEWED', `alert ${id} is open`);
          case 'superseded':
            throw new AdminError(
              409,
              'SUPERSEDED',
              `alert ${id} cannot be reopened: the tag has been reviewed or has moved again since`,
            );
          case 'reopened': {
            request.log.info(
              { alertId: id, reviewer: reviewer.name, via: reviewer.via },
              'tag-mutation alert reopened',
            );
            const alert = await deps.history.alert(id);
            if (alert !== undefined) {
              await deps.onReviewed?.({
                requestId: request.id,
                alert,
                action: 'reopen',
                reviewer,
                reason: body.reason,
              });
            }
            return alert;
          }
        }
      });

      admin.get('/whoami', async (request: FastifyRequest) => need(request, 'viewer'));

      admin.get('/tokens', async (request: FastifyRequest) => {
        need(request, 'admin');
        return { tokens: (await deps.tokens?.list()) ?? [] };
      });
      admin.post('/tokens', async (request: FastifyRequest, reply: FastifyReply) => {
        const creator = need(request, 'admin');
        if (deps.tokens === undefined) throw new AdminError(404, 'NOT_FOUND', 'tokens are not available');
        const body = parse(tokenBody, request.body ?? undefined, 'body (expected JSON {"name": "...", ...})');
        const now = deps.now?.() ?? new Date();
        const created = await deps.tokens.create({
          name: body.name,
          role: body.role,
          createdBy: creator.name,
          at: now,
          expiresAt: new Date(now.getTime() + body.expiresInDays * 86_400_000),
        });
        request.log.info(
          { tokenId: created.view.id, name: body.name, createdBy: creator.name },
          'api token created',
        );
        // The only time the token is ever shown.
        return reply.code(201).send({ ...created.view, token: created.token });
      });
      admin.delete('/tokens/:id', async (request: FastifyRequest) => {
        const by = need(request, 'admin');
        const { id } = parse(tokenIdParams, request.params, 'token id');
        if (deps.tokens === undefined || !(await deps.tokens.revoke(id, deps.now?.() ?? new Date())))
          throw new AdminError(404, 'TOKEN_NOT_FOUND', `token ${id} does not exist or is already revoked`);
        request.log.info({ tokenId: id, revokedBy: by.name }, 'api token revoked');
        return { revoked: id };
      });

      admin.get('/decisions', async (request: FastifyRequest) => {
        if (deps.decisions === undefined)
          throw new AdminError(404, 'NOT_FOUND', 'the decision log is disabled');
        const q = parse(decisionsQuery, request.query, 'query');
        try {
          const page = await deps.decisions(q);
          return { records: page.records, nextCursor: page.nextCursor ?? null };
        } catch (err) {
          if (err instanceof InvalidQueryError) throw new AdminError(400, 'BAD_REQUEST', err.message);
          throw err;
        }
      });

      // The note as written (text/plain, what a SIEM stores and `log verify --checkpoint` reads), or its fields.
      admin.get('/log/checkpoint', async (request: FastifyRequest, reply: FastifyReply) => {
        const q = parse(checkpointQuery, request.query, 'query');
        const latest = deps.checkpoint?.();
        if (latest === undefined) throw new AdminError(404, 'NOT_FOUND', 'the decision log is disabled');
        if (q.format === 'note') return reply.type('text/plain; charset=utf-8').send(latest.note);
        return {
          ...latest.checkpoint,
          signed: latest.signed,
          keyId: latest.keyId ?? null,
          time: latest.time,
          note: latest.note,
        };
      });

      admin.get('/tags/history', async (request: FastifyRequest) => {
        const q = parse(historyQuery, request.query, 'query');
        let upstream = q.upstream ?? deps.defaultUpstream ?? 'docker.io';
        let repository = q.repository;
        if (repository === undefined && q.name !== undefined) {
          if (deps.resolveName !== undefined) {
            let resolved: { upstream: string; repository: string };
            try {
              resolved = deps.resolveName(q.name);
            } catch (err) {
              throw new AdminError(
                400,
                'BAD_REQUEST',
                err instanceof Error ? err.message : 'unknown repository',
              );
            }
            upstream = q.upstream ?? resolved.upstream;
            repository = resolved.repository;
          } else {
            repository = q.name;
          }
        }
        if (repository === undefined) throw new AdminError(400, 'BAD_REQUEST', 'repository is required');
        return deps.history.history({ upstream, repository, tag: q.tag });
      });
    },
    { prefix: '/admin' },
  );
}
