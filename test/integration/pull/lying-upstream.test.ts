import { createHash, randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FaultServer, startFaultServer } from '../../helpers/fault-server.js';
import { type Pullgate, startPullgate } from '../../helpers/pullgate.js';

// An upstream that serves wrong bytes under the right headers: a manifest is refused with 502 before a byte
// goes out; a blob's transfer is cut so it cannot complete cleanly, and nothing is cached.
const sha256 = (b: Uint8Array) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const goodManifest = Buffer.from(
  JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: {
      mediaType: 'application/vnd.oci.image.config.v1+json',
      digest: `sha256:${'1'.repeat(64)}`,
      size: 2,
    },
    layers: [],
  }),
);
const manifestDigest = sha256(goodManifest);
const claimedBlob = randomBytes(3 * 1024 * 1024);
const blobDigest = sha256(claimedBlob);

let liar: FaultServer;
let pullgate: Pullgate;

beforeAll(async () => {
  liar = await startFaultServer((req, res) => {
    const evil = Buffer.from(goodManifest);
    evil[evil.length - 2] = 0x20; // one byte changed
    if (req.url?.includes('/manifests/')) {
      res.writeHead(200, {
        'content-type': 'application/vnd.oci.image.manifest.v1+json',
        'docker-content-digest': manifestDigest,
        'content-length': String(evil.length),
      });
      res.end(req.method === 'HEAD' ? undefined : evil);
      return;
    }
    if (req.url?.includes('/blobs/')) {
      const wrong = Buffer.from(claimedBlob);
      wrong[wrong.length - 1] = (wrong[wrong.length - 1] ?? 0) ^ 0xff;
      res.writeHead(200, {
        'content-type': 'application/octet-stream',
        'content-length': String(wrong.length),
        'docker-content-digest': blobDigest,
      });
      res.end(req.method === 'HEAD' ? undefined : wrong);
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{}');
  });
  pullgate = await startPullgate({ env: { PULLGATE_UPSTREAM: liar.url } });
});
afterAll(async () => {
  await pullgate?.stop();
  await liar?.stop();
});

describe('an upstream that lies about bytes', () => {
  it('answers 502 for a manifest whose bytes do not match, by tag and by digest', async () => {
    for (const reference of ['latest', manifestDigest]) {
      const res = await fetch(`${pullgate.url}/v2/library/app/manifests/${reference}`);
      expect(res.status).toBe(502);
      const body = (await res.json()) as { errors: { code: string }[] };
      expect(body.errors[0]?.code).toBe('UNAVAILABLE');
    }
  });

  it('cuts the blob transfer before it completes and caches nothing', async () => {
    const res = await fetch(`${pullgate.url}/v2/library/app/blobs/${blobDigest}`);
    expect(res.status).toBe(200);
    let received = 0;
    const reading = (async () => {
      const reader = res.body?.getReader();
      if (reader === undefined) throw new Error('no body');
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        received += value.length;
      }
    })();
    await expect(reading).rejects.toThrow();
    expect(received).toBeLessThan(claimedBlob.length);
    const cached = await readdir(join(pullgate.dataDir, 'cache', 'blobs', 'sha256'));
    expect(cached).toEqual([]);
    const tmp = await readdir(join(pullgate.dataDir, 'cache', 'tmp'));
    expect(tmp).toEqual([]);
  });
});
