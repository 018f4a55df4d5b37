import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAlerts, runTags } from '../../../src/cli/alerts.js';
import { adminRoutes } from '../../../src/routes/admin.js';
import { openStore, type Store } from '../../../src/store/open.js';
import { TagHistory } from '../../../src/tags/history.js';
import { makeTempDir, type TempDir } from '../../helpers/tmp.js';
import { describeFrom, digest, image, observation, offlineRoute } from './fixtures.js';

const TOKEN = 'cli-token-91c2';

describe('pullgate alerts over the admin API', () => {
  let dir: TempDir;
  let store: Store;
  let app: FastifyInstance;
  let server: string;
  let alertId: number;

  beforeAll(async () => {
    dir = await makeTempDir('cli');
    store = await openStore({ dataDir: dir.path });
    const history = new TagHistory({
      store,
      describe: describeFrom(new Map([digest(51), digest(52)].map((d) => [d, image(d)]))),
    });
    const route = offlineRoute('library/alpine', 'docker.io');
    const signal = AbortSignal.timeout(10_000);
    await history.observe(observation(route, '3.19.1', digest(51)), signal);
    alertId = Number((await history.observe(observation(route, '3.19.1', digest(52)), signal)).alertId);
    app = Fastify({ logger: false });
    await app.register(adminRoutes, {
      history,
      token: TOKEN,
      resolveName: (name) => ({
        upstream: 'docker.io',
        repository: name.includes('/') ? name : `library/${name}`,
      }),
    });
    server = await app.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => {
    await app?.close();
    await store?.close();
    await dir?.cleanup();
  });

  const cli = async (
    argv: string[],
    env: NodeJS.ProcessEnv = { PULLGATE_ADMIN_TOKEN: TOKEN, USER: 'tester' },
  ) => {
    let out = '';
    let err = '';
    const io = { out: (t: string) => (out += t), err: (t: string) => (err += t), env };
    const code = argv[0] === 'tags' ? await runTags(argv.slice(1), io) : await runAlerts(argv, io);
    return { code, out, err };
  };

  it('lists as a table and as JSON, and shows one alert', async () => {
    const table = await cli(['list', '--server', server]);
    expect(table.code).toBe(0);
    expect(table.out).toMatch(/ID\s+STATUS/);
    expect(table.out).toContain('library/alpine:3.19.1');
    const json = await cli(['list', '--json', '--status', 'open', '--server', server]);
    expect(JSON.parse(json.out).alerts).toMatchObject([{ id: alertId, status: 'open' }]);
    const show = await cli(['show', String(alertId), '--server', server]);
    expect(show.out).toContain(digest(52));
  });

  it('exits 2 on usage errors and 1 on API errors', async () => {
    expect((await cli(['approve', String(alertId), '--server', server])).code).toBe(2);
    expect((await cli(['frobnicate'])).code).toBe(2);
    expect((await cli(['list', '--bogus'])).code).toBe(2);
    const noToken = await cli(['list', '--server', server], {});
    expect(noToken.code).toBe(1);
    expect(noToken.err).toContain('UNAUTHORIZED');
    expect((await cli(['show', '4242', '--server', server])).code).toBe(1);
  });

  it('approves under the name the token proves (not $USER), then refuses a second review, and shows the tag history', async () => {
    const approve = await cli([
      'approve',
      String(alertId),
      '--reason',
      'rebuild for openssl',
      '--server',
      server,
    ]);
    expect(approve.code).toBe(0);
    expect(approve.out).toContain('approve by break-glass (admin-token)');
    expect(approve.out).not.toContain('tester');
    const reject = await cli(['reject', String(alertId), '--reason', 'late', '--server', server]);
    expect(reject.code).toBe(1);
    expect(reject.err).toContain('ALREADY_REVIEWED');
    const history = await cli(['tags', 'history', 'alpine:3.19.1', '--server', server]);
    expect(history.code).toBe(0);
    expect(history.out).toContain(`approved manifest: ${digest(52)}`);
  });
});
