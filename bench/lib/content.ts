import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { finished } from 'node:stream/promises';
import { request } from 'undici';
import { run } from '../../test/helpers/proc.js';
import type { RegistryTarget } from '../../test/helpers/registry.js';

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
export const OCI_LAYER_TAR = 'application/vnd.oci.image.layer.v1.tar';

/** The Accept a pull client sends for a manifest by tag: OCI and Docker manifests and lists. */
export const MANIFEST_ACCEPT = [
  OCI_MANIFEST,
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
].join(', ');

export interface BlobFile {
  path: string;
  digest: string;
  size: number;
}

const CHUNK = 1024 * 1024;

/**
 * Random (incompressible) bytes written in 1 MiB chunks and hashed on the way, so a 512 MiB blob is never
 * held in memory.
 */
export async function makeRandomFile(path: string, size: number): Promise<BlobFile> {
  const out = createWriteStream(path);
  const hash = createHash('sha256');
  for (let written = 0; written < size; written += CHUNK) {
    const chunk = randomBytes(Math.min(CHUNK, size - written));
    hash.update(chunk);
    if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  out.end();
  await finished(out);
  return { path, digest: `sha256:${hash.digest('hex')}`, size };
}

async function hashFile(path: string): Promise<BlobFile> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: CHUNK })) hash.update(chunk as Buffer);
  return { path, digest: `sha256:${hash.digest('hex')}`, size: (await stat(path)).size };
}

/**
 * A real (uncompressed) tar layer holding one random file, so skopeo and any other client see a
 * well-formed image (OCI image-spec layer.md).
 */
export async function makeTarLayer(path: string, payloadBytes: number): Promise<BlobFile> {
  const payload = `${path}.payload`;
  await makeRandomFile(payload, payloadBytes);
  await run('tar', ['-cf', path, '-C', dirname(payload), basename(payload)]);
  await run('rm', ['-f', payload]);
  return hashFile(path);
}

/**
 * Monolithic upload (distribution-spec "POST then PUT"), the body streamed from disk with its length
 * declared, never buffered.
 */
export async function pushBlob(
  registry: RegistryTarget,
  repo: string,
  blob: { digest: string; size: number; path?: string; bytes?: Uint8Array },
): Promise<void> {
  const start = await request(`${registry.url}/v2/${repo}/blobs/uploads/`, { method: 'POST' });
  await start.body.dump();
  const location = start.headers.location;
  if (start.statusCode !== 202 || typeof location !== 'string') {
    throw new Error(`blob upload start answered ${start.statusCode}`);
  }
  const target = new URL(location, registry.url);
  target.searchParams.set('digest', blob.digest);
  const body = blob.bytes ?? (blob.path === undefined ? undefined : createReadStream(blob.path));
  if (body === undefined) throw new Error('pushBlob needs a path or bytes');
  const done = await request(target, {
    method: 'PUT',
    headers: { 'content-type': 'application/octet-stream', 'content-length': String(blob.size) },
    body,
  });
  const text = await done.body.text();
  if (done.statusCode !== 201) throw new Error(`blob upload answered ${done.statusCode}: ${text}`);
}

export interface PushedImage {
  repo: string;
  tag: string;
  manifestDigest: string;
  manifestSize: number;
  /** Config first, then the layers. */
  blobs: { digest: string; size: number }[];
}

function sha256(bytes: Uint8Array): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** Pushes tar layers, an image config naming their diff_ids, and an OCI manifest under `tag`. */
export async function pushImage(
  registry: RegistryTarget,
  repo: string,
  tag: string,
  layers: BlobFile[],
): Promise<PushedImage> {
  for (const layer of layers) await pushBlob(registry, repo, layer);
  const config = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      config: { Cmd: ['/bin/sh'], User: '1000:1000' },
      // Uncompressed tar layers: the diff_id is the layer digest (image-spec config.md).
      rootfs: { type: 'layers', diff_ids: layers.map((l) => l.digest) },
      history: layers.map((_, i) => ({ created_by: `bench layer ${i}` })),
    }),
  );
  const configDigest = sha256(config);
  await pushBlob(registry, repo, { digest: configDigest, size: config.length, bytes: config });
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: OCI_CONFIG, digest: configDigest, size: config.length },
      layers: layers.map((l) => ({ mediaType: OCI_LAYER_TAR, digest: l.digest, size: l.size })),
    }),
  );
  const res = await request(`${registry.url}/v2/${repo}/manifests/${tag}`, {
    method: 'PUT',
    headers: { 'content-type': OCI_MANIFEST },
    body: manifest,
  });
  const text = await res.body.text();
  if (res.statusCode !== 201) throw new Error(`manifest PUT answered ${res.statusCode}: ${text}`);
  return {
    repo,
    tag,
    manifestDigest: sha256(manifest),
    manifestSize: manifest.length,
    blobs: [
      { digest: configDigest, size: config.length },
      ...layers.map((l) => ({ digest: l.digest, size: l.size })),
    ],
  };
}
