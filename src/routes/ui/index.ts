import fastifyCookie from '@fastify/cookie';
import fastifyCsrf from '@fastify/csrf-protection';
import fastifyFormbody from '@fastify/formbody';
import fastifyHelmet from '@fastify/helmet';
import fastifyRateLimit from '@fastify/rate-limit';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import {
  type DecisionFilters,
  type DecisionRecord,
  InvalidQueryError,
  type RecordPage,
} from '../../audit/index.js';
import { LoginThrottle } from '../../auth/login-throttle.js';
import { hasRole, type Principal } from '../../auth/principal.js';
import type { UsersDirectory } from '../../auth/users-directory.js';
import type { PolicyStatus } from '../../plugins/policies.js';
import type { SessionStore } from '../../store/session-store.js';
import type { TokenStore } from '../../store/token-store.js';
import { toAlertView } from '../../tags/alert-view.js';
import type { TagHistory } from '../../tags/history.js';
import type { Review } from '../../tags/record-review.js';
import { alertPage } from './alert-page.js';
import { decisionFilterNames, decisionPage, decisionsPage } from './decisions-page.js';
import { historyPage } from './history-page.js';
import type { SafeHtml } from './html.js';
import { errorPage, type PageContext } from './layout.js';
import { loginPage } from './login-page.js';
import { policiesPage } from './policies-page.js';
import { queuePage } from './queue-page.js';
import { consoleCss } from './styles.js';
import { tokensPage } from './tokens-page.js';

export interface ConsoleDependencies {
  history: TagHistory;
  users: UsersDirectory;
  sessions: SessionStore;
  /** Personal API tokens, managed by admins on /ui/tokens. */
  tokens: TokenStore;
  /** Cookies get `Secure` (PULLGATE_PUBLIC_URL is https, or this server speaks TLS itself). */
  secureCookies: boolean;
  loginLimit: { perAddress: number; perName: number; windowSeconds: number };
  /** Records a review or reopen in the decision log; the answer waits for it. */
  recordReview: (review: Review) => Promise<void>;
  decisions?: ((filters: DecisionFilters) => Promise<RecordPage<DecisionRecord>>) | undefined;
  /** One decision record by replica and seq (from the shared index: records of every replica). */
  decision?: ((replica: string, seq: number) => Promise<DecisionRecord | undefined>) | undefined;
  policies: () => PolicyStatus;
  expiresAt: (expires: string) => Date;
  now?: () => Date;
}

const SESSION_COOKIE = 'pullgate_session';
const PAGE_SIZE = 50;

declare module 'fastify' {
  interface FastifyRequest {
    /** The console user, set from the session cookie. */
    consoleUser?: Principal;
  }
}

class ConsoleError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
    this.name = 'ConsoleError';
  }
}

const idParams = z.strictObject({
  id: z
    .string()
    .regex(/^[1-9]\d{0,15}$/)
    .transform(Number),
});
const recordParams = z.strictObject({
  replica: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/),
  seq: z
    .string()
    .regex(/^[1-9]\d{0,15}$/)
    .transform(Number),
});
const optional = <T extends z.ZodType>(s: T) => z.preprocess((v) => (v === '' ? undefined : v), s.optional());
const queueQuery = z.strictObject({
  status: optional(z.enum(['open', 'approved', 'rejected'])),
  severity: optional(z.enum(['info', 'low', 'medium', 'high', 'critical'])),
  repository: optional(z.string().max(500)),
  upstream: optional(z.string().max(500)),
  page: z.coerce.number().int().min(1).max(10_000).default(1),
});
const loginBody = z.object({
  name: z.string().max(200).default(''),
  password: z.string().max(1000).default(''),
  next: z.string().max(2000).optional(),
});
const reviewForm = z.object({
  action: z.enum(['approve', 'reject']),
  reason: z.string().trim().min(1, 'a reason is required').max(4000),
});
const tokenForm = z.object({
  name: z
    .string()
    .regex(
      /^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$/,
      'The name must be 1-100 letters, digits, ".", "_", "@" or "-".',
    ),
  role: z.enum(['viewer', 'reviewer', 'admin']),
  days: z.coerce.number().int().min(1, 'Expiry: 1-366 days.').max(366, 'Expiry: 1-366 days.'),
});
const reopenForm = z.object({ reason: z.string().trim().min(1, 'a reason is required').max(4000) });
const historyQuery = z.strictObject({
  upstream: z.string().min(1).max(500),
  repository: z.string().min(1).max(500),
  tag: z.string().min(1).max(200),
});
const decisionsQuery = z.strictObject({
  ...Object.fromEntries(decisionFilterNames.map((k) => [k, optional(z.string().max(500))])),
  cursor: optional(z.string().max(500)),
});

function parse<T>(schema: z.ZodType<T>, value: unknown, status = 400): T {
  const r = schema.safeParse(value);
  if (!r.success) throw new ConsoleError(status, r.error.issues.map((i) => i.message).join('; '));
  return r.data;
}

/** Only a path inside the console: a `next` that leaves it would make the login form an open redirect. */
function safeNext(next: string | undefined): string {
  return next !== undefined && /^\/ui\/[A-Za-z0-9/?=&%._~+-]*$/.test(next) && !next.startsWith('//')
    ? next
    : '/ui/alerts';
}

/**
 * The review console under /ui/: server-rendered HTML, no script, so it reads with JavaScript off and the CSP
 * can forbid scripts outright. Everything here is scoped to this plugin (helmet, cookies, forms, CSRF, rate
 * limits); the registry API under /v2 is untouched.
 */
export async function consoleRoutes(app: FastifyInstance, deps: ConsoleDependencies): Promise<void> {
  const now = deps.now ?? (() => new Date());
  await app.register(
    async (ui) => {
      await ui.register(fastifyHelmet, {
        // The pages have no script, no frames, no plugins; forms post back here only.
        contentSecurityPolicy: {
          useDefaults: false,
          directives: {
            'default-src': ["'none'"],
            'style-src': ["'self'"],
            'img-src': ["'self'"],
            'form-action': ["'self'"],
            'frame-ancestors': ["'none'"],
            'base-uri': ["'none'"],
          },
        },
        hsts: deps.secureCookies ? { maxAge: 31_536_000 } : false,
        referrerPolicy: { policy: 'no-referrer' },
      });
      await ui.register(fastifyCookie);
      await ui.register(fastifyFormbody, { bodyLimit: 16 * 1024 });
      const cookieOpts = {
        path: '/ui',
        httpOnly: true,
        sameSite: 'strict' as const,
        secure: deps.secureCookies,
      };
      await ui.register(fastifyCsrf, {
        sessionPlugin: '@fastify/cookie',
        cookieKey: 'pullgate_csrf',
        cookieOpts,
      });
      await ui.register(fastifyRateLimit, { global: false });

      // Every login attempt counts against the address; failed ones also against the name (LoginThrottle).
      const perAddress = ui.rateLimit({
        max: deps.loginLimit.perAddress,
        timeWindow: deps.loginLimit.windowSeconds * 1000,
        errorResponseBuilder: (_req, ctx) =>
          new ConsoleError(429, `Too many login attempts; try again in ${ctx.after}.`),
      });
      const perName = new LoginThrottle(deps.loginLimit.perName, deps.loginLimit.windowSeconds);
      ui.addHook('onClose', async () => perName.close());

      const ctx = (request: FastifyRequest, reply: FastifyReply): PageContext => ({
        principal: request.consoleUser,
        csrf: reply.generateCsrf(),
      });
      const send = (reply: FastifyReply, body: SafeHtml, status = 200) =>
        reply
          .code(status)
          .header('cache-control', 'no-store')
          .type('text/html; charset=utf-8')
          .send(body.text);

      ui.setErrorHandler((err: FastifyError, request, reply) => {
        const status = err.statusCode ?? 500;
        if (status >= 500) request.log.error({ err }, 'failed to answer a console request');
        const message =
          status >= 500
            ? 'internal error'
            : err.code === 'FST_CSRF_INVALID_TOKEN' || err.code === 'FST_CSRF_MISSING_SECRET'
              ? 'The form was not accepted (missing or invalid CSRF token). Reload the page and try again.'
              : err.message;
        return send(
          reply,
          errorPage({ principal: request.consoleUser, csrf: reply.generateCsrf() }, status, message),
          status,
        );
      });
      ui.setNotFoundHandler((request, reply) =>
        send(
          reply,
          errorPage({ principal: request.consoleUser, csrf: reply.generateCsrf() }, 404, 'No such page.'),
          404,
        ),
      );

      // Every page but the login form and the stylesheet needs a live session of a user the users file still has.
      ui.addHook('onRequest', async (request, reply) => {
        const path = request.url.split('?')[0] ?? '';
        if (path === '/ui/login' || path === '/ui/static/console.css') return;
        const id = request.cookies[SESSION_COOKIE];
        const name = id === undefined || id === '' ? undefined : await deps.sessions.touch(id, now());
        const user = name === undefined ? undefined : deps.users.get(name);
        if (user !== undefined) {
          request.consoleUser = { name: user.name, role: user.role, via: 'password' };
          return;
        }
        if (id !== undefined) reply.clearCookie(SESSION_COOKIE, { path: '/ui' });
        if (request.method === 'GET') {
          const next =
            request.url === '/ui' || request.url === '/ui/' ? '' : `?next=${encodeURIComponent(request.url)}`;
          return reply.code(303).header('location', `/ui/login${next}`).send();
        }
        throw new ConsoleError(401, 'Your session has ended; log in again.');
      });

      ui.get('/static/console.css', async (_request, reply) =>
        reply
          .type('text/css; charset=utf-8')
          .header('cache-control', 'public, max-age=3600')
          .send(consoleCss),
      );
      ui.get('/', async (_request, reply) => reply.code(303).header('location', '/ui/alerts').send());

      ui.get('/login', async (request, reply) => {
        const next = (request.query as { next?: unknown }).next;
        return send(
          reply,
          // Said before anyone types a password: without a users file no login can succeed (the POST refuses too).
          loginPage(ctx(request, reply), {
            next: typeof next === 'string' ? safeNext(next) : '',
            noUsers: !deps.users.configured,
          }),
        );
      });
      ui.post('/login', { preHandler: [perAddress, ui.csrfProtection] }, async (request, reply) => {
        const body = parse(loginBody, request.body ?? {});
        if (!deps.users.configured) {
          throw new ConsoleError(403, 'No users are configured (PULLGATE_USERS_FILE); nobody can log in.');
        }
        const wait = perName.blockedFor(body.name);
        if (wait > 0) {
          request.log.warn({ name: body.name.slice(0, 200) }, 'console login refused: too many failures');
          throw new ConsoleError(429, `Too many login attempts; try again in ${wait} seconds.`);
        }
        const principal = await deps.users.verify(body.name, body.password);
        if (principal === undefined) {
          perName.recordFailure(body.name);
          request.log.info({ name: body.name.slice(0, 200) }, 'console login refused');
          return send(
            reply,
            loginPage(ctx(request, reply), {
              error: 'Wrong name or password.',
              name: body.name,
              next: safeNext(body.next),
            }),
            401,
          );
        }
        const id = await deps.sessions.create(principal.name, now());
        request.log.info({ name: principal.name, role: principal.role }, 'console login');
        return reply
          .setCookie(SESSION_COOKIE, id, cookieOpts)
          .code(303)
          .header('location', safeNext(body.next))
          .send();
      });
      ui.post('/logout', { preHandler: ui.csrfProtection }, async (request, reply) => {
        const id = request.cookies[SESSION_COOKIE];
        if (id !== undefined) await deps.sessions.destroy(id);
        return reply
          .clearCookie(SESSION_COOKIE, { path: '/ui' })
          .code(303)
          .header('location', '/ui/login')
          .send();
      });

      ui.get('/alerts', async (request, reply) => {
        const q = parse(queueQuery, request.query);
        const filter = {
          status: q.status,
          severity: q.severity,
          repository: q.repository,
          upstream: q.upstream,
        };
        const [rows, counts, places] = await Promise.all([
          deps.history.alerts.queue({ ...filter, limit: PAGE_SIZE, offset: (q.page - 1) * PAGE_SIZE }),
          deps.history.alerts.countByStatus(filter),
          deps.history.alerts.alertPlaces(),
        ]);
        return send(
          reply,
          queuePage(ctx(request, reply), {
            filters: { ...filter, page: q.page },
            alerts: rows.map((r) => toAlertView(r)),
            counts,
            places,
            pageSize: PAGE_SIZE,
          }),
        );
      });

      const showAlert = async (
        request: FastifyRequest,
        reply: FastifyReply,
        id: number,
        error?: string,
        status = 200,
      ) => {
        const alert = await deps.history.alert(id);
        if (alert === undefined) throw new ConsoleError(404, `Alert ${id} does not exist.`);
        const [oldSeen, newSeen] = await Promise.all([
          deps.history.alerts.observation(alert, alert.old.digest),
          deps.history.alerts.observation(alert, alert.new.digest),
        ]);
        const seen = (o: typeof oldSeen) =>
          o === undefined ? undefined : { firstSeen: o.first_seen, lastSeen: o.last_seen };
        return send(
          reply,
          alertPage(ctx(request, reply), { alert, seen: { old: seen(oldSeen), new: seen(newSeen) }, error }),
          status,
        );
      };
      ui.get('/alerts/:id', async (request, reply) =>
        showAlert(request, reply, parse(idParams, request.params, 404).id),
      );

      const reviewer = (request: FastifyRequest): Principal => {
        const p = request.consoleUser;
        if (p === undefined || !hasRole(p, 'reviewer'))
          throw new ConsoleError(403, 'Reviewing needs the reviewer role.');
        return p;
      };
      ui.post('/alerts/:id/review', { preHandler: ui.csrfProtection }, async (request, reply) => {
        const who = reviewer(request);
        const { id } = parse(idParams, request.params, 404);
        const form = reviewForm.safeParse(request.body ?? {});
        if (!form.success)
          return showAlert(request, reply, id, 'A reason is required to approve or reject.', 400);
        const { action, reason } = form.data;
        const result =
          action === 'approve'
            ? await deps.history.approve(id, who.name, reason, who.via)
            : await deps.history.reject(id, who.name, reason, who.via);
        if (result.kind === 'not-found') throw new ConsoleError(404, `Alert ${id} does not exist.`);
        if (result.kind === 'already-reviewed')
          return showAlert(request, reply, id, `Alert ${id} was already ${result.alert.status}.`, 409);
        const alert = await deps.history.alert(id);
        if (alert !== undefined)
          await deps.recordReview({ requestId: request.id, alert, action, reviewer: who, reason });
        request.log.info(
          { alertId: id, action, reviewer: who.name, via: who.via },
          'tag-mutation alert reviewed',
        );
        return reply.code(303).header('location', `/ui/alerts/${id}`).send();
      });
      ui.post('/alerts/:id/reopen', { preHandler: ui.csrfProtection }, async (request, reply) => {
        const who = reviewer(request);
        const { id } = parse(idParams, request.params, 404);
        const form = reopenForm.safeParse(request.body ?? {});
        if (!form.success) return showAlert(request, reply, id, 'A reason is required to reopen.', 400);
        const result = await deps.history.reopen(id, who.name, form.data.reason, who.via);
        if (result.kind === 'not-found') throw new ConsoleError(404, `Alert ${id} does not exist.`);
        if (result.kind === 'not-reviewed') return showAlert(request, reply, id, `Alert ${id} is open.`, 409);
        if (result.kind === 'superseded')
          return showAlert(
            request,
            reply,
            id,
            'This alert cannot be reopened: the tag has been reviewed or has moved again since.',
            409,
          );
        const alert = await deps.history.alert(id);
        if (alert !== undefined)
          await deps.recordReview({
            requestId: request.id,
            alert,
            action: 'reopen',
            reviewer: who,
            reason: form.data.reason,
          });
        request.log.info({ alertId: id, reviewer: who.name, via: who.via }, 'tag-mutation alert reopened');
        return reply.code(303).header('location', `/ui/alerts/${id}`).send();
      });

      ui.get('/tags', async (request, reply) => {
        const q = parse(historyQuery, request.query);
        return send(reply, historyPage(ctx(request, reply), await deps.history.history(q)));
      });

      ui.get('/decisions', async (request, reply) => {
        const q = parse(decisionsQuery, request.query) as Record<string, string | undefined>;
        const filters = Object.fromEntries(Object.entries(q).filter(([, v]) => v !== undefined)) as Record<
          string,
          string
        >;
        if (deps.decisions === undefined) throw new ConsoleError(404, 'The decision log is disabled.');
        try {
          const pageOf = await deps.decisions({ ...filters, limit: PAGE_SIZE } as DecisionFilters);
          return send(
            reply,
            decisionsPage(ctx(request, reply), {
              filters,
              records: pageOf.records,
              nextCursor: pageOf.nextCursor,
            }),
          );
        } catch (err) {
          if (!(err instanceof InvalidQueryError)) throw err;
          return send(
            reply,
            decisionsPage(ctx(request, reply), {
              filters,
              records: [],
              nextCursor: undefined,
              error: err.message,
            }),
            400,
          );
        }
      });
      ui.get('/decisions/:replica/:seq', async (request, reply) => {
        const { replica, seq } = parse(recordParams, request.params, 404);
        if (deps.decision === undefined) throw new ConsoleError(404, 'The decision log is disabled.');
        const record = await deps.decision(replica, seq);
        if (record === undefined)
          throw new ConsoleError(404, `Decision ${seq} of ${replica} does not exist.`);
        return send(reply, decisionPage(ctx(request, reply), record));
      });

      const admin = (request: FastifyRequest): Principal => {
        const p = request.consoleUser;
        if (p === undefined || !hasRole(p, 'admin'))
          throw new ConsoleError(403, 'Managing tokens needs the admin role.');
        return p;
      };
      ui.get('/tokens', async (request, reply) => {
        admin(request);
        return send(reply, tokensPage(ctx(request, reply), { tokens: await deps.tokens.list() }));
      });
      ui.post('/tokens', { preHandler: ui.csrfProtection }, async (request, reply) => {
        const who = admin(request);
        const form = tokenForm.safeParse(request.body ?? {});
        if (!form.success) {
          return send(
            reply,
            tokensPage(ctx(request, reply), {
              tokens: await deps.tokens.list(),
              error: form.error.issues.map((i) => i.message).join(' '),
            }),
            400,
          );
        }
        const at = now();
        const created = await deps.tokens.create({
          name: form.data.name,
          role: form.data.role,
          createdBy: who.name,
          at,
          expiresAt: new Date(at.getTime() + form.data.days * 86_400_000),
        });
        request.log.info(
          { tokenId: created.view.id, name: created.view.name, createdBy: who.name },
          'api token created',
        );
        // Answered here, not redirected: the token is in this response and in no other.
        return send(
          reply,
          tokensPage(ctx(request, reply), { tokens: await deps.tokens.list(), created }),
          201,
        );
      });
      ui.post('/tokens/:id/revoke', { preHandler: ui.csrfProtection }, async (request, reply) => {
        const who = admin(request);
        const { id } = parse(idParams, request.params, 404);
        if (!(await deps.tokens.revoke(id, now())))
          throw new ConsoleError(404, `Token ${id} does not exist or is revoked.`);
        request.log.info({ tokenId: id, revokedBy: who.name }, 'api token revoked');
        return reply.code(303).header('location', '/ui/tokens').send();
      });

      ui.get('/policies', async (request, reply) =>
        send(reply, policiesPage(ctx(request, reply), deps.policies(), deps.expiresAt)),
      );
    },
    { prefix: '/ui' },
  );
}
