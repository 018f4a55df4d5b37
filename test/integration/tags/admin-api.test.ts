import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminRoutes } from '../../../src/routes/admin.js';
import { openStore, type Store } from '../../../src/store/open.js';
import { TagHistory } from '../../../src/tags/history.js';
import { makeTempDir, type TempDir } from '../../helpers/tmp.js';
import { describeFrom, digest, image, observation, offlineRoute } from './fixtures.js';

const TOKEN = 'test-admin-token-7f3a';
const auth = { authorization: `Bearer ${TOKEN}` };

describe('admin API', () => {
  let dir: TempDir;
  let store: Store;
  let app: FastifyInstance;
  let closed: FastifyInstance;
  const alertIds: number[] = [];

  beforeAll(async () => {
    dir = await makeTempDir('admin');
    store = await openStore({ dataDir: dir.path });
    const [a, b, c] = [digest(41), digest(42), digest(43)];
    const history = new TagHistory({
      store,
      describe: describeFrom(new Map([a, b, c].map((d) => [d, image(d)]))),
    });
    const route = offlineRoute('library/node');
    const signal = AbortSignal.timeout(10_000);
    for (const tag of ['20.11.1', '20.11.0', '18.19.0']) {
      await history.observe(observation(route, tag, a), signal);
      const moved = await history.observe(observation(route, tag, tag === '18.19.0' ? c : b), signal);
      alertIds.push(Number(moved.alertId));
    }
    app = Fastify({ logger: false });
    await app.register(adminRoutes, { history, token: TOKEN });
    closed = Fastify({ logger: false });
    await closed.register(adminRoutes, { history, token: undefined });
  });
  afterAll(async () => {
    await app?.close();
    await closed?.close();
    await store?.close();
    await dir?.cleanup();
  });

  it('refuses requests without the token, with a wrong token, and everything when no token is configured', async () => {
    const none = await app.inject({ method: 'GET', url: '/admin/alerts' });
    expect(none.statusCode).toBe(401);
    expect(none.headers['www-authenticate']).toContain('Bearer');
    expect(none.json()).toEqual({
      errors: [
        {
          code: 'UNAUTHORIZED',
          message: 'a valid admin bearer token is required',
          detail: { code: 'UNAUTHORIZED' },
        },
      ],
      error: { code: 'UNAUTHORIZED', message: 'a valid admin bearer token is required' },
    });
    const wrong = await app.inject({
      method: 'GET',
      url: '/admin/alerts',
      headers: { authorization: 'Bearer nope' },
    });
    expect(wrong.statusCode).toBe(401);
    const disabled = await closed.inject({ method: 'GET', url: '/admin/alerts', headers: auth });
    expect(disabled.statusCode).toBe(403);
    expect(disabled.json().error.code).toBe('ADMIN_DISABLED');
  });

  it('lists and filters alerts with cursor pagination', async () => {
    const page1 = await app.inject({
      method: 'GET',
      url: '/admin/alerts?status=open&limit=2',
      headers: auth,
    });
    expect(page1.statusCode).toBe(200);
    const body1 = page1.json();
    expect(body1.alerts).toHaveLength(2);
    expect(body1.nextCursor).not.toBeNull();
    const page2 = await app.inject({
      method: 'GET',
      url: `/admin/alerts?status=open&limit=2&cursor=${body1.nextCursor}`,
      headers: auth,
    });
    expect(page2.json().alerts).toHaveLength(1);
    const byTag = await app.inject({ method: 'GET', url: '/admin/alerts?tag=18.19.0', headers: auth });
    expect(byTag.json().alerts).toMatchObject([{ tag: '18.19.0', repository: 'library/node' }]);
    const bad = await app.inject({ method: 'GET', url: '/admin/alerts?status=maybe', headers: auth });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.message).toContain('status');
  });

  it('answers 400 with a clear message for malformed review bodies', async () => {
    const id = alertIds[0];
    const cases = [
      { payload: '{"reason":', type: 'application/json' },
      { payload: JSON.stringify({}), type: 'application/json' },
      { payload: JSON.stringify({ reason: '  ' }), type: 'application/json' },
      // The reviewer is who the credentials prove: a typed name is refused, not recorded.
      { payload: JSON.stringify({ reviewer: 'alice', reason: 'b' }), type: 'application/json' },
    ];
    for (const c of cases) {
      const res = await app.inject({
        method: 'POST',
        url: `/admin/alerts/${id}/approve`,
        headers: { ...auth, 'content-type': c.type },
        payload: c.payload,
      });
      expect(res.statusCode).toBe(400);
      const body = res.json();
      expect(body.error.code).toBe('BAD_REQUEST');
      expect(body.error.message.length).toBeGreaterThan(10);
    }
    const missing = await app.inject({ method: 'POST', url: `/admin/alerts/${id}/approve`, headers: auth });
    expect(missing.statusCode).toBe(400);
    expect(missing.json().error.message).toContain('reason');
  });

  it('approves and rejects, then answers 409 for a second review and 404 for an unknown alert', async () => {
    const [first, second] = alertIds;
    const approve = await app.inject({
      method: 'POST',
      url: `/admin/alerts/${first}/approve`,
      headers: auth,
      payload: { reason: 'checked the changelog' },
    });
    expect(approve.statusCode).toBe(200);
    // The shared admin token names nobody: the review says so.
    expect(approve.json()).toMatchObject({
      status: 'approved',
      reviews: [{ reviewer: 'break-glass', auth: 'admin-token', action: 'approve' }],
    });
    const again = await app.inject({
      method: 'POST',
      url: `/admin/alerts/${first}/reject`,
      headers: auth,
      payload: { reason: 'too late' },
    });
    expect(again.statusCode).toBe(409);
    expect(again.json().error.code).toBe('ALREADY_REVIEWED');
    const reject = await app.inject({
      method: 'POST',
      url: `/admin/alerts/${second}/reject`,
      headers: auth,
      payload: { reason: 'unexpected rebuild' },
    });
    expect(reject.json()).toMatchObject({ status: 'rejected' });
    const unknown = await app.inject({
      method: 'POST',
      url: '/admin/alerts/99999/approve',
      headers: auth,
      payload: { reason: 'y' },
    });
    expect(unknown.statusCode).toBe(404);

    const shown = await app.inject({ method: 'GET', url: `/admin/alerts/${first}`, headers: auth });
    expect(shown.json()).toHaveProperty('diff.platforms');
    const history = await app.inject({
      method: 'GET',
      url: '/admin/tags/history?upstream=registry.test&repository=library/node&tag=20.11.1',
      headers: auth,
    });
    expect(history.json()).toMatchObject({
      approved: [{ digest: digest(42), pinned: false }],
      alerts: [{ status: 'approved' }],
    });
  });
});
