import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FaultServer, startFaultServer } from '../../helpers/fault-server.js';
import { type Pullgate, startPullgate } from '../../helpers/pullgate.js';
import { useSeededPullgate } from '../../helpers/seeded-pullgate.js';

// tags/list passes through with its pagination parameters; a next-page Link points back at pullgate.
const setup = useSeededPullgate();
let paging: FaultServer;
let pagingProxy: Pullgate;

const allTags = ['a1', 'a2', 'b1', 'b2', 'c1'];

beforeAll(async () => {
  // distribution 2.8 ignores `n` for tags; a registry that pages (distribution 3, Docker Hub) is played here.
  paging = await startFaultServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const n = Number(url.searchParams.get('n') ?? '100');
    const last = url.searchParams.get('last');
    const start = last === null ? 0 : allTags.indexOf(last) + 1;
    const page = allTags.slice(start, start + n);
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (start + n < allTags.length) {
      headers.link = `</v2/library/paged/tags/list?last=${page[page.length - 1]}&n=${n}>; rel="next"`;
    }
    res.writeHead(200, headers);
    res.end(JSON.stringify({ name: 'library/paged', tags: page }));
  });
  pagingProxy = await startPullgate({ env: { PULLGATE_UPSTREAM: paging.url } });
});
afterAll(async () => {
  await pagingProxy?.stop();
  await paging?.stop();
});

describe('tags/list', () => {
  it('passes the real registry list through with the query forwarded', async () => {
    const res = await fetch(`${setup.pullgate.url}/v2/app/tags/list?n=100`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { tags: string[] };
    expect(body.tags.sort()).toEqual([
      'argleak',
      'big',
      'docker-list',
      'nonroot',
      'oci-index',
      'root',
      'secretenv',
      'v2s2',
    ]);
    const log = await setup.upstream.waitForAccess((e) => e.path === '/v2/library/app/tags/list');
    expect(log.some((e) => e.uri === '/v2/library/app/tags/list?n=100')).toBe(true);
  });

  it('pages through an upstream that paginates, following Links that point back at pullgate', async () => {
    const seen: string[] = [];
    let next: string | undefined = '/v2/paged/tags/list?n=2';
    let pages = 0;
    while (next !== undefined && pages < 10) {
      const res = await fetch(`${pagingProxy.url}${next}`);
      expect(res.status).toBe(200);
      seen.push(...((await res.json()) as { tags: string[] }).tags);
      const link = res.headers.get('link');
      next = link === null ? undefined : /<([^>]+)>/.exec(link)?.[1];
      if (next !== undefined) expect(next).toMatch(/^\/v2\/paged\/tags\/list\?/);
      pages++;
    }
    expect(pages).toBe(3);
    expect(seen).toEqual(allTags);
  });
});
