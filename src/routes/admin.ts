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
import type { OciErrorCode } from '../oci/errors.js';
import type { ReviewResult } from '../store/tag-store.js';
import type { AlertView } from '../tags/alert-view.js';
import { toAlertView, type UpstreamNamer } from '../tags/alert-view.js';
import type { TagHistory } from '../tags/history.js';

export interface AdminDependencies {
  history: TagHistory;
  /** PULLGATE_ADMIN_TOKEN; undefined or empty: the admin API refuses every request. */
  token: string | undefined;
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
  onReviewed?: (review: {
    requestId: string;
    alert: AlertView;
    action: 'approve' | 'reject';
    reviewer: string;
    reason: string;
  }) => Promise<void>;
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

const reviewBody = z.strictObject({
  reviewer: z.string().trim().min(1, 'reviewer is required').max(200),
  reason: z.string().trim().min(1, 'reason is required').max(4000),
});

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
 * The reviewer's JSON API under /admin. Every request needs `Authorization: Bearer <PULLGATE_ADMIN_TOKEN>`;
 * without a configured token nothing is served at all, so an unconfigured install cannot be reviewed by anyone.
 */
export async function adminRoutes(app: FastifyInstance, deps: AdminDependencies): Promise<void> {
  await app.register(
    async (admin) => {
      const expected = deps.token !== undefined && deps.token !== '' ? sha256(deps.token) : undefined;

      admin.setErrorHandler((err: FastifyError, request, reply) => {
        if (err instanceof AdminError) return sendError(reply, err.status, err.code, err.message);
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
        if (expected === undefined) {
          return sendError(
            reply,
            403,
            'ADMIN_DISABLED',
            'the admin API is disabled: set PULLGATE_ADMIN_TOKEN on the server to enable it',
          );
        }
        const match = /^Bearer\s+(.+)$/i.exec(request.headers.authorization ?? '');
        // Hashing first gives equal lengths, so timingSafeEqual compares without leaking the token's length.
        if (match?.[1] === undefined || !timingSafeEqual(sha256(match[1].trim()), expected)) {
          reply.header('www-authenticate', 'Bearer realm="pullgate-admin"');
          return sendError(reply, 401, 'UNAUTHORIZED', 'a valid admin bearer token is required');
        }
        return undefined;
      });

      admin.get('/alerts', async (request: FastifyRequest) => {
        const q = parse(listQuery, request.query, 'query');
        const rows = await deps.history.tags.listAlerts({
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
        const { id } = parse(idParams, request.params, 'alert id');
        const body = parse(
          reviewBody,
          request.body ?? undefined,
          'body (expected JSON {"reviewer": "...", "reason": "..."})',
        );
        const result: ReviewResult =
          action === 'approve'
            ? await deps.history.approve(id, body.reviewer, body.reason)
            : await deps.history.reject(id, body.reviewer, body.reason);
        switch (result.kind) {
          case 'not-found':
            throw new AdminError(404, 'ALERT_NOT_FOUND', `alert ${id} does not exist`);
          case 'already-reviewed':
            throw new AdminError(409, 'ALREADY_REVIEWED', `alert ${id} was already ${result.alert.status}`);
          case 'reviewed': {
            request.log.info({ alertId: id, action, reviewer: body.reviewer }, 'tag-mutation alert reviewed');
            const alert = await deps.history.alert(id);
            if (alert !== undefined) {
              await deps.onReviewed?.({
                requestId: request.id,
                alert,
                action,
                reviewer: body.reviewer,
                reason: body.reason,
              });
            }
            return alert;
          }
        }
      };
      admin.post('/alerts/:id/approve', review('approve'));
      admin.post('/alerts/:id/reject', review('reject'));

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
