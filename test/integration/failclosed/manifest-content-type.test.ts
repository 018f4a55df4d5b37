import { createHash } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FaultServer, startFaultServer } from '../../helpers/fault-server.js';
import { type Pullgate, startPullgate } from '../../helpers/pullgate.js';

// Issue 10, path 2: an upstream answering application/octet-stream (static and S3-backed registries do) had its
// root image served with 200 and recorded as allow; a text/html body was served as a manifest. In-process
// upstream over a real socket: a real registry always sends a manifest Content-Type.
const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: {}, rootfs: {} }));
const layer = Buffer.from([0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0]);
// umoci-style: no mediaType field, so only the structure says what it is.
const manifest = Buffer.from(
  JSON.stringify({
    schemaVersion: 2,
    config: {
      mediaType: 'application/vnd.oci.image.config.v1+json',
      digest: sha256(config),
      size: config.length,
    },
    layers: [
      { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha256(layer), size: layer.length },
    ],
  }),
);
const html = Buffer.from('<!doctype html><html><body><form>Sign in</form></body></html>');

let upstream: FaultServer;
let pullgate: Pullgate;

beforeAll(async () => {
  upstream = await startFaultServer((req, res) => {
    const url = req.url ?? '';
    const send = (body: Buffer, type: string | undefined) => {
      const headers: Record<string, string> = {
        'content-length': String(body.length),
        'docker-content-digest': sha256(body),
      };
      if (type !== undefined) headers['content-type'] = type;
      res.writeHead(200, headers);
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    if (url === '/v2/') return send(Buffer.from('{}'), 'application/json');
    if (url.includes('/manifests/octet') || url.endsWith(`/manifests/${sha256(manifest)}`)) {
      return send(manifest, 'application/octet-stream');
    }
    if (url.includes('/manifests/untyped')) return send(manifest, undefined);
    if (url.includes('/manifests/login') || url.endsWith(`/manifests/${sha256(html)}`)) {
      return send(html, 'text/html');
    }
    if (url.endsWith(`/blobs/${sha256(config)}`)) return send(config, 'application/octet-stream');
    res.writeHead(404).end();
  });
  pullgate = await startPullgate({ env: { PULLGATE_UPSTREAM: upstream.url } });
});
afterAll(async () => {
  await pullgate?.stop();
  await upstream?.stop();
});

async function manifestFiles(): Promise<string[]> {
  const entries = await readdir(join(pullgate.dataDir, 'cache', 'manifests'), { recursive: true }).catch(
    () => [],
  );
  return entries.map(String);
}

describe('a manifest whatever its Content-Type', () => {
  it('an image served as application/octet-stream is judged (here: refused, it runs as root)', async () => {
    const res = await fetch(`${pullgate.url}/v2/library/app/manifests/octet`);
    const body = (await res.json()) as { errors: { code: string; message: string }[] };
    expect(res.status).toBe(403);
    expect(body.errors[0]?.message).toContain('run-as-root');
  });

  it('an image served with no Content-Type is judged too', async () => {
    const res = await fetch(`${pullgate.url}/v2/library/app/manifests/untyped`);
    expect(res.status).toBe(403);
    await res.arrayBuffer();
  });

  it('an HTML page is a 502 UNAVAILABLE naming the upstream, on GET and HEAD, and is not cached', async () => {
    for (const method of ['GET', 'HEAD']) {
      const res = await fetch(`${pullgate.url}/v2/library/app/manifests/login`, { method });
      expect(res.status).toBe(502);
      if (method === 'GET') {
        const body = (await res.json()) as { errors: { code: string; message: string }[] };
        expect(body.errors[0]?.code).toBe('UNAVAILABLE');
        expect(body.errors[0]?.message).toMatch(/^upstream \S+ answered/);
        expect(body.errors[0]?.message).toContain('not a manifest');
      }
    }
    expect((await manifestFiles()).some((f) => f.includes(sha256(html).slice(7)))).toBe(false);
  });
});
