import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { askRegistry, type FaultServer, startFaultServer } from '../../helpers/fault-server.js';
import { MEDIA_TYPE, pushImage, testImages } from '../../helpers/images.js';
import { type Pullgate, startPullgate } from '../../helpers/pullgate.js';
import { type Registry, startRegistry } from '../../helpers/registry.js';

// An upstream that rate-limits (429, as Docker Hub does past its pull limit): a known tag is served from what
// is known, with a Warning; an unknown one is a clear TOOMANYREQUESTS with the upstream's Retry-After (issue 6,
// "Upstream down or rate-limiting"). The images live in the real registry; the 429s come from an in-process
// front, since distribution has no rate limit to switch on.
const repo = 'library/app';
let upstream: Registry;
let front: FaultServer;
let pullgate: Pullgate;
let digest: string;
let limited = false;

async function forward(req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (limited) {
    res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '42' });
    res.end('{"errors":[{"code":"TOOMANYREQUESTS","message":"you have reached your pull rate limit"}]}');
    return;
  }
  const answer = await askRegistry(upstream.url, req);
  const body = answer.body;
  res.writeHead(answer.status, answer.headers);
  res.end(req.method === 'HEAD' ? undefined : body);
}

beforeAll(async () => {
  upstream = await startRegistry();
  const layout = await testImages();
  digest = await pushImage(layout.dir, 'nonroot', upstream, repo, 'nonroot');
  await pushImage(layout.dir, 'nonroot-arm64', upstream, repo, 'never-pulled');
  front = await startFaultServer(forward);
  pullgate = await startPullgate({ env: { PULLGATE_UPSTREAM: front.url, PULLGATE_TAG_TTL: '0' } });
});
afterAll(async () => {
  await pullgate?.stop();
  await front?.stop();
  await upstream?.stop();
});

const sha256 = (b: Uint8Array) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

async function manifest(reference: string): Promise<Response> {
  return fetch(`${pullgate.url}/v2/${repo}/manifests/${reference}`, {
    headers: { accept: MEDIA_TYPE.ociManifest },
  });
}

describe('the upstream rate-limiting', () => {
  it('serves a known tag stale with a Warning, and answers an unknown one 429 with Retry-After', async () => {
    const warm = await manifest('nonroot');
    expect(warm.status).toBe(200);
    expect(warm.headers.get('warning')).toBeNull();
    await warm.arrayBuffer();

    limited = true;
    const asked = front.requests.length;
    const stale = await manifest('nonroot');
    expect(stale.status).toBe(200);
    expect(sha256(Buffer.from(await stale.arrayBuffer()))).toBe(digest);
    expect(stale.headers.get('warning')).toMatch(/^299 - ".*upstream unavailable.*"$/);
    // The window is 0: the 429 was really met, not skipped.
    expect(front.requests.slice(asked)).toContain(`HEAD /v2/${repo}/manifests/nonroot`);

    const unknown = await manifest('never-pulled');
    expect(unknown.status).toBe(429);
    expect(unknown.headers.get('retry-after')).toBe('42');
    const body = (await unknown.json()) as { errors?: { code: string }[] };
    expect(body.errors?.[0]?.code).toBe('TOOMANYREQUESTS');
  });
});
