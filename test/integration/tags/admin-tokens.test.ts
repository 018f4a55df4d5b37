import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAlerts } from '../../../src/cli/alerts.js';
import { runTokens } from '../../../src/cli/tokens.js';
import { adminRoutes } from '../../../src/routes/admin.js';
import { openStore, type Store } from '../../../src/store/open.js';
import { TokenStore } from '../../../src/store/token-store.js';
import { TagHistory } from '../../../src/tags/history.js';
import { makeTempDir, type TempDir } from '../../helpers/tmp.js';
import { describeFrom, digest, image, observation, offlineRoute } from './fixtures.js';

const BREAK_GLASS = 'tokens-admin-token-2b7c';

describe('personal API tokens on the admin API and the CLI', () => {
  let dir: TempDir;
  let store: Store;
  let app: FastifyInstance;
  let server: string;
  let clock = new Date('2026-03-01T10:00:00Z');
  const alertIds: number[] = [];

  beforeAll(async () => {
    dir = await makeTempDir('tokens');
    store = await openStore({ dataDir: dir.path });
    const history = new TagHistory({
      store,
      describe: describeFrom(new Map([digest(61), digest(62)].map((d) => [d, image(d)]))),
    });
    const route = offlineRoute('library/redis', 'docker.io');
    const signal = AbortSignal.timeout(10_000);
    for (const tag of ['7.2.4', '7.2.5']) {
      await history.observe(observation(route, tag, digest(61)), signal);
      alertIds.push(Number((await history.observe(observation(route, tag, digest(62)), signal)).alertId));
    }
    app = Fastify({ logger: false });
    await app.register(adminRoutes, {
      history,
      token: BREAK_GLASS,
      tokens: new TokenStore(store.db),
      now: () => clock,
    });
    server = await app.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => {
    await app?.close();
    await store?.close();
    await dir?.cleanup();
  });

  const cli = async (run: typeof runTokens, argv: string[], env: NodeJS.ProcessEnv) => {
    let out = '';
    let err = '';
    const code = await run([...argv, '--server', server], {
      out: (t) => (out += t),
      err: (t) => (err += t),
      env,
    });
    return { code, out, err };
  };
  const create = async (name: string, role: string, extra: string[] = []) => {
    const r = await cli(runTokens, ['create', '--name', name, '--role', role, '--json', ...extra], {
      PULLGATE_ADMIN_TOKEN: BREAK_GLASS,
    });
    expect(r.code).toBe(0);
    return JSON.parse(r.out) as { id: number; token: string; expiresAt: string };
  };

  it('shows a created token once; the list names it without its value', async () => {
    const created = await create('ci-bot', 'reviewer');
    expect(created.token).toMatch(/^pgt_/);
    const list = await cli(runTokens, ['list', '--json'], { PULLGATE_ADMIN_TOKEN: BREAK_GLASS });
    expect(JSON.parse(list.out).tokens).toContainEqual(
      expect.objectContaining({ id: created.id, name: 'ci-bot' }),
    );
    expect(list.out).not.toContain(created.token);
    const rows = await store.db.selectFrom('api_tokens').selectAll().execute();
    expect(JSON.stringify(rows)).not.toContain(created.token);
  });

  it('records a CLI approval under the token name and "token", whatever $USER says', async () => {
    const { token } = await create('release-bot', 'reviewer');
    let out = '';
    const code = await runAlerts(
      ['approve', String(alertIds[0]), '--reason', 'signed rebuild', '--server', server],
      {
        out: (t) => (out += t),
        err: () => undefined,
        env: { PULLGATE_TOKEN: token, USER: 'mallory' },
      },
    );
    expect(code).toBe(0);
    expect(out).toContain('approve by release-bot (token)');
    const rows = await store.db
      .selectFrom('reviews')
      .selectAll()
      .where('alert_id', '=', alertIds[0] ?? 0)
      .execute();
    expect(rows).toMatchObject([{ reviewer: 'release-bot', auth: 'token', action: 'approve' }]);
  });

  it('lets a viewer token read but not review or manage tokens', async () => {
    const { token } = await create('dashboard', 'viewer');
    const headers = { authorization: `Bearer ${token}` };
    expect((await app.inject({ method: 'GET', url: '/admin/alerts', headers })).statusCode).toBe(200);
    const approve = await app.inject({
      method: 'POST',
      url: `/admin/alerts/${alertIds[1]}/approve`,
      headers,
      payload: { reason: 'viewer trying' },
    });
    expect(approve.statusCode).toBe(403);
    expect(approve.json().error.code).toBe('FORBIDDEN');
    expect((await app.inject({ method: 'GET', url: '/admin/tokens', headers })).statusCode).toBe(403);
  });

  it('refuses a revoked token', async () => {
    const { id, token } = await create('old-bot', 'viewer');
    const headers = { authorization: `Bearer ${token}` };
    expect((await app.inject({ method: 'GET', url: '/admin/alerts', headers })).statusCode).toBe(200);
    expect((await cli(runTokens, ['revoke', String(id)], { PULLGATE_ADMIN_TOKEN: BREAK_GLASS })).code).toBe(
      0,
    );
    expect((await app.inject({ method: 'GET', url: '/admin/alerts', headers })).statusCode).toBe(401);
  });

  it('refuses a token after its expiry', async () => {
    const { token, expiresAt } = await create('short-bot', 'viewer', ['--expires', '2']);
    expect(expiresAt).toBe('2026-03-03T10:00:00.000Z');
    const headers = { authorization: `Bearer ${token}` };
    expect((await app.inject({ method: 'GET', url: '/admin/alerts', headers })).statusCode).toBe(200);
    clock = new Date('2026-03-03T10:00:01Z');
    expect((await app.inject({ method: 'GET', url: '/admin/alerts', headers })).statusCode).toBe(401);
  });
  it('finds the server from PULLGATE_LISTEN without --server, as the other admin commands do', async () => {
    let out = '';
    const code = await runTokens(['list', '--json'], {
      out: (t) => (out += t),
      err: () => undefined,
      env: { PULLGATE_ADMIN_TOKEN: BREAK_GLASS, PULLGATE_LISTEN: new URL(server).host },
    });
    expect(code).toBe(0);
    expect(JSON.parse(out)).toHaveProperty('tokens');
  });
});
