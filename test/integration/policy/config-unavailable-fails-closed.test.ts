import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FaultServer, startFaultServer } from '../../helpers/fault-server.js';
import { type Pullgate, startPullgate } from '../../helpers/pullgate.js';
import { makeTempDir, type TempDir } from '../../helpers/tmp.js';

// An image whose config cannot be fetched was judged by nobody: under enforce it is refused (fail-closed), and a
// policy with `failClosed: false` serves it with a warning instead. A real registry cannot be made to lose one
// blob of an image, so the upstream here serves the manifest and fails the config.
const sha256 = (b: Uint8Array) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const config = Buffer.from('{"architecture":"amd64","os":"linux","config":{"User":"1000"}}');
const manifest = Buffer.from(
  JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: {
      mediaType: 'application/vnd.oci.image.config.v1+json',
      digest: sha256(config),
      size: config.length,
    },
    layers: [],
  }),
);
const policy = (failClosed: boolean) => `apiVersion: pullgate/v1
kind: Policy
name: default
rules:
  run-as-root: { mode: enforce }
failClosed: ${failClosed}
`;

let upstream: FaultServer;
let dir: TempDir;
const started: Pullgate[] = [];

async function proxyWith(failClosed: boolean): Promise<Pullgate> {
  const policies = join(dir.path, `policies-${failClosed}`);
  await mkdir(policies);
  await writeFile(join(policies, 'default.yaml'), policy(failClosed));
  const pullgate = await startPullgate({
    env: { PULLGATE_UPSTREAM: upstream.url, PULLGATE_POLICY_DIR: policies },
  });
  started.push(pullgate);
  return pullgate;
}

beforeAll(async () => {
  upstream = await startFaultServer((req, res) => {
    if (req.url?.includes('/manifests/')) {
      res.writeHead(200, {
        'content-type': 'application/vnd.oci.image.manifest.v1+json',
        'docker-content-digest': sha256(manifest),
        'content-length': String(manifest.length),
      });
      res.end(req.method === 'HEAD' ? undefined : manifest);
      return;
    }
    res.writeHead(503);
    res.end();
  });
  dir = await makeTempDir('fail-closed');
});
afterAll(async () => {
  for (const p of started) await p.stop();
  await upstream?.stop();
  await dir?.cleanup();
});

describe('an image config that cannot be fetched', () => {
  it('is refused under enforce (fail-closed)', async () => {
    const pullgate = await proxyWith(true);
    const res = await fetch(`${pullgate.url}/v2/library/app/manifests/latest`);
    expect(res.status).toBe(403);
    const body = (await res.json()) as { errors: { code: string; message: string }[] };
    expect(body.errors[0]?.code).toBe('DENIED');
    expect(body.errors[0]?.message).toMatch(/run-as-root/);
  });

  it('is served with a warning when the policy says failClosed: false', async () => {
    const pullgate = await proxyWith(false);
    const res = await fetch(`${pullgate.url}/v2/library/app/manifests/latest`);
    expect(res.status).toBe(200);
    expect(res.headers.get('warning')).toMatch(/^299 - /);
    expect(Buffer.from(await res.arrayBuffer()).equals(manifest)).toBe(true);
  });
});
