import { beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../helpers/proc.js';
import { useSeededPullgate } from '../../helpers/seeded-pullgate.js';

// Decisions are queried through the admin API and `pullgate decisions --json`, with filters and pagination.
const token = 'decisions-test-token';
const setup = useSeededPullgate({ PULLGATE_ADMIN_TOKEN: token });

interface Page {
  records: {
    requestId: string;
    decision: string;
    repository: string;
    digest?: string;
    reference: string;
    findings: { rule: string; key?: string }[];
    client: { address: string };
  }[];
  nextCursor: string | null;
}

async function query(params: string): Promise<Page> {
  const res = await fetch(`${setup.pullgate.url}/admin/decisions?${params}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  expect(res.status).toBe(200);
  return (await res.json()) as Page;
}

beforeAll(async () => {
  for (const tag of ['nonroot', 'v2s2', 'root', 'secretenv', 'nonroot']) {
    await (await fetch(`${setup.pullgate.url}/v2/library/app/manifests/${tag}`)).arrayBuffer();
  }
});

describe('decision queries', () => {
  it('filters by decision, rule, repository, digest, client and time', async () => {
    expect((await query('')).records).toHaveLength(5);
    const denied = await query('decision=deny');
    expect(denied.records.map((r) => r.reference).sort()).toEqual(['root', 'secretenv']);
    const secret = await query('rule=secret-env');
    expect(secret.records).toHaveLength(1);
    expect(secret.records[0]?.findings).toContainEqual(
      expect.objectContaining({ rule: 'secret-env', key: 'AWS_SECRET_ACCESS_KEY' }),
    );
    expect((await query(`digest=${setup.seeded.digests.nonroot}`)).records).toHaveLength(2);
    expect((await query('repository=library/app')).records).toHaveLength(5);
    expect((await query('repository=library/other')).records).toHaveLength(0);
    expect((await query('client=127.0.0.1')).records).toHaveLength(5);
    expect(
      (await query(`since=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`)).records,
    ).toHaveLength(0);
  });

  it('pages with limit and cursor, newest first, without repeats', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: Page = await query(`limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      seen.push(...page.records.map((r) => r.requestId));
      cursor = page.nextCursor;
      pages++;
    } while (cursor !== null && pages < 10);
    expect(pages).toBe(3);
    expect(new Set(seen).size).toBe(5);
  });

  it('answers a malformed query with 400 and a missing token with 401', async () => {
    const bad = await fetch(`${setup.pullgate.url}/admin/decisions?decision=maybe`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toMatch(/decision/);
    expect((await fetch(`${setup.pullgate.url}/admin/decisions`)).status).toBe(401);
  });

  it('is what `pullgate decisions --json` prints', async () => {
    const out = await run(
      process.execPath,
      [
        '--import',
        'tsx',
        'src/cli.ts',
        'decisions',
        '--json',
        '--decision',
        'deny',
        '--server',
        setup.pullgate.url,
      ],
      { env: { ...process.env, PULLGATE_ADMIN_TOKEN: token } },
    );
    const page = JSON.parse(out.stdout) as Page;
    expect(page.records.map((r) => r.decision)).toEqual(['deny', 'deny']);
  });
});
