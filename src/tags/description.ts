import { z } from 'zod';
import type { Descriptor, ImageManifest, Platform } from '../oci/manifest.js';

/** What an image looks like to a reviewer, per platform. Env values are never kept: only a keyed hash. */
export interface PlatformDescription {
  /** `os/architecture[/variant]`. */
  platform: string;
  /** The platform manifest's digest and media type. */
  digest: string;
  mediaType: string;
  user: string | null;
  entrypoint: string[] | null;
  cmd: string[] | null;
  exposedPorts: string[];
  labels: Record<string, string>;
  /** Env variable name → keyed hash (HMAC) of its value: enough to tell "changed", useless to recover it. */
  env: Record<string, string>;
  layers: string[];
  /** Layer digest → size in bytes, from the manifest's descriptors. */
  layerSizes?: Record<string, number>;
  created: string | null;
  /** Manifest (and enclosing index) annotations. */
  annotations: Record<string, string>;
}

export interface ImageDescription {
  digest: string;
  mediaType: string;
  kind: 'index' | 'manifest' | 'other';
  platforms: PlatformDescription[];
}

/** Keyed hash of an env value; injected so the pure code here holds no key. */
export type EnvHasher = (name: string, value: string) => string;

// OCI image-spec config.md, read leniently: only the fields a reviewer compares.
export const imageConfigSchema = z.looseObject({
  created: z.string().nullish(),
  architecture: z.string().nullish(),
  os: z.string().nullish(),
  variant: z.string().nullish(),
  config: z
    .looseObject({
      User: z.string().nullish(),
      Env: z.array(z.string()).nullish(),
      Entrypoint: z.array(z.string()).nullish(),
      Cmd: z.array(z.string()).nullish(),
      ExposedPorts: z.record(z.string(), z.unknown()).nullish(),
      Labels: z.record(z.string(), z.string()).nullish(),
    })
    .nullish(),
});
export type ImageConfig = z.infer<typeof imageConfigSchema>;

export function platformString(p: Pick<Platform, 'os' | 'architecture' | 'variant'> | undefined): string {
  if (p === undefined) return 'unknown';
  return [p.os, p.architecture, p.variant].filter((s) => s !== undefined && s !== '').join('/');
}

export interface PlatformParts {
  digest: string;
  mediaType: string;
  /** From the index descriptor; when absent, the config's os/architecture is used. */
  platform: Platform | undefined;
  manifest: ImageManifest;
  config: ImageConfig;
  /** Annotations of the index that lists this manifest. */
  indexAnnotations?: Record<string, string> | undefined;
}

/** Pure: one platform's description from its manifest and parsed config. */
export function describePlatform(parts: PlatformParts, hashEnv: EnvHasher): PlatformDescription {
  const c = parts.config.config ?? {};
  const env: Record<string, string> = {};
  for (const entry of c.Env ?? []) {
    const eq = entry.indexOf('=');
    const name = eq < 0 ? entry : entry.slice(0, eq);
    const value = eq < 0 ? '' : entry.slice(eq + 1);
    env[name] = hashEnv(name, value);
  }
  const fromConfig =
    parts.config.os != null && parts.config.architecture != null
      ? platformString({
          os: parts.config.os,
          architecture: parts.config.architecture,
          variant: parts.config.variant ?? undefined,
        })
      : 'unknown';
  return {
    platform: parts.platform !== undefined ? platformString(parts.platform) : fromConfig,
    digest: parts.digest,
    mediaType: parts.mediaType,
    user: c.User ?? null,
    entrypoint: c.Entrypoint ?? null,
    cmd: c.Cmd ?? null,
    exposedPorts: Object.keys(c.ExposedPorts ?? {}).sort(),
    labels: { ...(c.Labels ?? {}) },
    env,
    layers: parts.manifest.layers.map((l: Descriptor) => l.digest),
    layerSizes: Object.fromEntries(parts.manifest.layers.map((l: Descriptor) => [l.digest, l.size])),
    created: parts.config.created ?? null,
    annotations: { ...(parts.indexAnnotations ?? {}), ...(parts.manifest.annotations ?? {}) },
  };
}
