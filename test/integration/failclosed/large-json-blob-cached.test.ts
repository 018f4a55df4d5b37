import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FaultServer, startFaultServer } from '../../helpers/fault-server.js';
import { type Pullgate, startPullgate } from '../../helpers/pullgate.js';

// A JSON blob larger than PULLGATE_CONFIG_MAX_BYTES cannot be judged. Cached while no rule was enforced, it is
// judged again on the way out of the cache once one is (an in-process upstream: a real registry serves it too, but
// this keeps the blob's size exact).
const blob = Buffer.from(JSON.stringify({ config: { Env: ['A=b'] }, pad: 'x'.repeat(100 * 1024) }));
const digest = `sha256:${createHash('sha256').update(blob).digest('hex')}`;
const work = mkdtempSync(join(tmpdir(), 'pullgate-test-large-json-'));
let upstream: FaultServer;
const started: Pullgate[] = [];

beforeAll(async () => {
  upstream = await startFaultServer((req, res) => {
    if (req.url === '/v2/') return void res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    if (req.url?.endsWith(`/blobs/${digest}`)) {
      res.writeHead(200, {
        'content-type': 'application/octet-stream',
        'content-length': String(blob.length),
      });
      return void res.end(req.method === 'HEAD' ? undefined : blob);
    }
    res.writeHead(404).end();
  });
  for (const [dir, mode] of [
    ['audit', 'audit'],
    ['enforce', 'enforce'],
  ] as const) {
    await mkdir(join(work, dir), { recursive: true });
    await writeFile(
      join(work, dir, 'p.yaml'),
      `apiVersion: pullgate/v1\nkind: Policy\nname: p\nrules:\n  run-as-root: { mode: ${mode} }\n`,
    );
  }
});
afterAll(async () => {
  for (const p of started) await p.stop().catch(() => undefined);
  await upstream?.stop();
  await rm(work, { recursive: true, force: true });
});

async function pullgate(policies: string): Promise<Pullgate> {
  const p = await startPullgate({
    env: {
      PULLGATE_UPSTREAM: upstream.url,
      PULLGATE_POLICY_DIR: join(work, policies),
      PULLGATE_CONFIG_MAX_BYTES: String(64 * 1024),
    },
    dataDir: join(work, 'data'),
  });
  started.push(p);
  return p;
}

describe('a JSON blob too large to judge', () => {
  it('served and cached while no rule is enforced is refused from the cache once one is', async () => {
    const lenient = await pullgate('audit');
    const first = await fetch(`${lenient.url}/v2/library/app/blobs/${digest}`);
    expect(first.status).toBe(200);
    expect(Buffer.from(await first.arrayBuffer()).equals(blob)).toBe(true);
    await lenient.stop();

    const strict = await pullgate('enforce');
    const again = await fetch(`${strict.url}/v2/library/app/blobs/${digest}`);
    const text = await again.text();
    expect(again.status).toBe(403);
    expect(text).toContain('cannot be judged');
    expect(upstream.requests.filter((r) => r.startsWith('GET /v2/library/app/blobs/'))).toHaveLength(1);
  });
});
