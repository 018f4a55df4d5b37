import { z } from 'zod';
import { baseMediaType, isImageManifestMediaType, isIndexMediaType, mediaType } from './media-types.js';

// OCI image spec descriptor.md / manifest.md / image-index.md, read leniently: registries hold manifests
// written by many tools (umoci omits `mediaType`), and a proxy must never re-serialise what it parsed.
export const platformSchema = z.looseObject({
  architecture: z.string(),
  os: z.string(),
  variant: z.string().optional(),
  'os.version': z.string().optional(),
});
export type Platform = z.infer<typeof platformSchema>;

export const descriptorSchema = z.looseObject({
  mediaType: z.string(),
  digest: z.string(),
  size: z.number().int().nonnegative(),
  annotations: z.record(z.string(), z.string()).optional(),
  platform: platformSchema.optional(),
  artifactType: z.string().optional(),
});
export type Descriptor = z.infer<typeof descriptorSchema>;

export const imageManifestSchema = z.looseObject({
  schemaVersion: z.literal(2),
  mediaType: z.string().optional(),
  artifactType: z.string().optional(),
  config: descriptorSchema,
  layers: z.array(descriptorSchema),
  subject: descriptorSchema.optional(),
  annotations: z.record(z.string(), z.string()).optional(),
});
export type ImageManifest = z.infer<typeof imageManifestSchema>;

export const imageIndexSchema = z.looseObject({
  schemaVersion: z.literal(2),
  mediaType: z.string().optional(),
  manifests: z.array(descriptorSchema),
  annotations: z.record(z.string(), z.string()).optional(),
});
export type ImageIndex = z.infer<typeof imageIndexSchema>;

export type ParsedManifest =
  | { kind: 'index'; mediaType: string; index: ImageIndex }
  | { kind: 'image'; mediaType: string; manifest: ImageManifest }
  | { kind: 'other'; mediaType: string | undefined };

/**
 * Classifies manifest bytes. The Content-Type the registry sent wins over the body's `mediaType` (which may be
 * absent); a body with `manifests` is an index, one with `config` and `layers` an image manifest.
 */
export function parseManifest(bytes: Uint8Array, contentType: string | undefined): ParsedManifest {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    return { kind: 'other', mediaType: baseMediaType(contentType) };
  }
  const declared =
    baseMediaType(contentType) ??
    (typeof json === 'object' && json !== null && 'mediaType' in json && typeof json.mediaType === 'string'
      ? json.mediaType
      : undefined);
  const index = imageIndexSchema.safeParse(json);
  if (index.success && (isIndexMediaType(declared) || declared === undefined || !('config' in index.data))) {
    return { kind: 'index', mediaType: declared ?? mediaType.ociIndex, index: index.data };
  }
  const manifest = imageManifestSchema.safeParse(json);
  if (
    manifest.success &&
    (isImageManifestMediaType(declared) || declared === undefined || declared === 'application/json')
  ) {
    return { kind: 'image', mediaType: declared ?? mediaType.ociManifest, manifest: manifest.data };
  }
  return { kind: 'other', mediaType: declared };
}

/** An index entry that is an attestation (BuildKit writes these as `unknown/unknown`), not a runnable image. */
export function isAttestationDescriptor(descriptor: Descriptor): boolean {
  return (
    descriptor.annotations?.['vnd.docker.reference.type'] === 'attestation-manifest' ||
    (descriptor.platform?.os === 'unknown' && descriptor.platform.architecture === 'unknown')
  );
}
