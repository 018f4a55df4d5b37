import { gzipSync } from 'node:zlib';
import { PLANTED_AWS_SECRET, PLANTED_AWS_SECRET_KEY, sha256Digest } from './images.js';

/** An image made byte by byte, for in-process upstreams: a manifest, its config and one layer, digests right. */
export interface CraftedImage {
  manifest: Buffer;
  manifestDigest: string;
  config: Buffer;
  configDigest: string;
  layer: Buffer;
  layerDigest: string;
  /** Blobs by digest: the config and the layer. */
  blobs: Map<string, Buffer>;
}

export type CraftedKind = 'root' | 'secret' | 'nonroot';

export interface CraftOptions {
  /** Leave the `mediaType` field out of the manifest (umoci and some older tools do). Default: keep it. */
  omitMediaType?: boolean;
  /** The config blob's bytes instead of a real image config (e.g. not JSON). */
  configBytes?: Buffer;
  /** Docker schema 2 instead of OCI. */
  docker?: boolean;
  /**
   * A label in the config, so images made for different cases have different digests: the blob cache is
   * content-addressed, and one case's cached config must not decide another's.
   */
  label?: string;
}

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';

/**
 * `root`: no User (refused by run-as-root); `secret`: User 1000 with the planted AWS secret in Env (refused by
 * secret-env); `nonroot`: User 1000, nothing planted (allowed: the control that shows the upstream works).
 */
export function craftImage(kind: CraftedKind, options: CraftOptions = {}): CraftedImage {
  // A real (empty) gzip'd tar: two 512-byte zero blocks.
  const layer = gzipSync(Buffer.alloc(1024));
  const layerDigest = sha256Digest(layer);
  const env = [
    'PATH=/bin',
    ...(kind === 'secret' ? [`${PLANTED_AWS_SECRET_KEY}=${PLANTED_AWS_SECRET}`] : []),
  ];
  const config =
    options.configBytes ??
    Buffer.from(
      JSON.stringify({
        architecture: 'amd64',
        os: 'linux',
        config: {
          ...(kind === 'root' ? {} : { User: '1000:1000' }),
          Env: env,
          Cmd: ['/bin/sh'],
          ...(options.label !== undefined ? { Labels: { 'test.case': options.label } } : {}),
        },
        rootfs: { type: 'layers', diff_ids: [sha256Digest(Buffer.alloc(1024))] },
        history: [{ created_by: 'COPY rootfs /' }],
      }),
    );
  const configDigest = sha256Digest(config);
  const docker = options.docker === true;
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      ...(options.omitMediaType ? {} : { mediaType: docker ? DOCKER_MANIFEST : OCI_MANIFEST }),
      config: {
        mediaType: docker
          ? 'application/vnd.docker.container.image.v1+json'
          : 'application/vnd.oci.image.config.v1+json',
        digest: configDigest,
        size: config.length,
      },
      layers: [
        {
          mediaType: docker
            ? 'application/vnd.docker.image.rootfs.diff.tar.gzip'
            : 'application/vnd.oci.image.layer.v1.tar+gzip',
          digest: layerDigest,
          size: layer.length,
        },
      ],
    }),
  );
  return {
    manifest,
    manifestDigest: sha256Digest(manifest),
    config,
    configDigest,
    layer,
    layerDigest,
    blobs: new Map([
      [configDigest, config],
      [layerDigest, layer],
    ]),
  };
}
