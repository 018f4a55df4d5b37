import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  fetchManifest,
  PLANTED_AWS_SECRET,
  PLANTED_NPM_TOKEN,
  type SeededImages,
  seedRegistry,
} from '../../helpers/images.js';
import { type Pullgate, startPullgate } from '../../helpers/pullgate.js';
import { type Registry, startRegistry } from '../../helpers/registry.js';

// The images that carry a planted secret are refused, and the secret's value appears in no response, no log
// line and no file under the data directory (cache, database, decision log).
let upstream: Registry;
let seeded: SeededImages;
let pullgate: Pullgate;
const logLines: string[] = [];
const responses: string[] = [];
const planted = [PLANTED_AWS_SECRET, PLANTED_NPM_TOKEN];

beforeAll(async () => {
  upstream = await startRegistry();
  seeded = await seedRegistry(upstream);
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      logLines.push(chunk.toString('utf8'));
      callback();
    },
  });
  pullgate = await startPullgate({
    env: { PULLGATE_UPSTREAM: upstream.url, PULLGATE_TAG_TTL: '0', PULLGATE_ADMIN_TOKEN: 'test-admin-token' },
    logger: { level: 'trace', stream: sink },
  });
});
afterAll(async () => {
  await pullgate?.stop();
  await upstream?.stop();
});

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await filesUnder(path)));
    else if (entry.isFile()) out.push(path);
  }
  return out;
}

async function record(res: Response): Promise<number> {
  const headers = [...res.headers.entries()].map(([k, v]) => `${k}: ${v}`).join('\n');
  responses.push(`${res.status}\n${headers}\n${await res.text()}`);
  return res.status;
}

describe('a planted secret', () => {
  it('is refused by tag and by digest, GET and HEAD, naming the variable', async () => {
    for (const tag of ['secretenv', 'argleak'] as const) {
      const digest = seeded.digests[tag];
      for (const reference of [tag, digest]) {
        const get = await fetch(`${pullgate.url}/v2/library/app/manifests/${reference}`);
        const body = await get.clone().text();
        expect(await record(get)).toBe(403);
        expect(body).toContain(tag === 'secretenv' ? 'AWS_SECRET_ACCESS_KEY' : 'NPM_TOKEN');
        await record(
          await fetch(`${pullgate.url}/v2/library/app/manifests/${reference}`, { method: 'HEAD' }),
        );
      }
      // The config blob of a refused image is not served either.
      const manifest = JSON.parse((await fetchManifest(upstream, seeded.repo, tag)).body.toString()) as {
        config: { digest: string };
      };
      expect(
        await record(await fetch(`${pullgate.url}/v2/library/app/blobs/${manifest.config.digest}`)),
      ).toBe(403);
    }
    const headers = { authorization: 'Bearer test-admin-token' };
    expect(await record(await fetch(`${pullgate.url}/admin/decisions?decision=deny`, { headers }))).toBe(200);
    expect(await record(await fetch(`${pullgate.url}/metrics`))).toBe(200);
  });

  it('appears in no response, log line or file under the data directory', async () => {
    // Let the store and the log settle (WAL checkpoints, the last fsync) before reading files.
    await new Promise((r) => setTimeout(r, 300));
    expect(logLines.length).toBeGreaterThan(10);
    const files = await filesUnder(pullgate.dataDir);
    expect(files.some((f) => f.includes('audit'))).toBe(true);
    expect(files.some((f) => f.endsWith('.db'))).toBe(true);
    for (const secret of planted) {
      for (const text of responses) expect(text).not.toContain(secret);
      for (const line of logLines) expect(line).not.toContain(secret);
      for (const file of files) {
        if ((await stat(file)).size > 64 * 1024 * 1024) continue;
        const bytes = await readFile(file);
        expect(bytes.includes(Buffer.from(secret)), file).toBe(false);
      }
    }
  });
});
