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

/** A manifest's exact bytes as served, with the digest they hash to and the media type they were classified as. */
export interface ManifestBytes {
  digest: string;
  mediaType: string;
  bytes: Buffer;
}

export type ParsedManifest =
  | { kind: 'index'; mediaType: string; index: ImageIndex }
  | { kind: 'image'; mediaType: string; manifest: ImageManifest }
  /** Not a manifest pullgate can judge; `why` says what it is instead (never echoes the bytes). */
  | { kind: 'unknown'; why: string };

/**
 * Classifies manifest bytes by what they are, not by what the upstream's Content-Type claims: static and
 * S3-backed registries answer `application/octet-stream`, a login page answers `text/html`, and a proxy that
 * trusted the header would serve those unjudged. The body's `mediaType` field decides (image-spec manifest.md
 * and image-index.md: it SHOULD be set, and a client that reads it must agree with us); without one (umoci
 * writes none) the structure does: `manifests` is an index, `config` + `layers` an image manifest. A body that
 * is both, neither, a schema other than 2, or a media type that contradicts its structure is `unknown`: a client
 * could read it as something we did not judge. The Content-Type only names the served type when the body has
 * no `mediaType` and the header agrees with the structure (a Docker type stays a Docker type).
 */
export function parseManifest(bytes: Uint8Array, contentType: string | undefined): ParsedManifest {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    return { kind: 'unknown', why: 'the body is not JSON' };
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    return { kind: 'unknown', why: 'the body is not a JSON object' };
  }
  const body = json as Record<string, unknown>;
  if (body.schemaVersion !== 2) {
    return { kind: 'unknown', why: `schemaVersion ${describeValue(body.schemaVersion)} is not supported` };
  }
  const looksIndex = 'manifests' in body;
  const looksImage = 'config' in body || 'layers' in body;
  if (looksIndex && looksImage) {
    return { kind: 'unknown', why: 'the body has both index and image manifest fields' };
  }
  if (!looksIndex && !looksImage)
    return { kind: 'unknown', why: 'the body has no manifests, config or layers' };
  const declared = body.mediaType;
  if (declared !== undefined && typeof declared !== 'string') {
    return { kind: 'unknown', why: 'the mediaType field is not a string' };
  }
  const header = baseMediaType(contentType);
  if (looksIndex) {
    if (declared !== undefined && !isIndexMediaType(declared)) {
      return { kind: 'unknown', why: `mediaType ${declared.slice(0, 100)} does not name an index` };
    }
    const index = imageIndexSchema.safeParse(json);
    if (!index.success) return { kind: 'unknown', why: 'the index is malformed' };
    const type = declared ?? (isIndexMediaType(header) ? header : undefined) ?? mediaType.ociIndex;
    return { kind: 'index', mediaType: type, index: index.data };
  }
  if (declared !== undefined && !isImageManifestMediaType(declared)) {
    return { kind: 'unknown', why: `mediaType ${declared.slice(0, 100)} does not name an image manifest` };
  }
  const manifest = imageManifestSchema.safeParse(json);
  if (!manifest.success) return { kind: 'unknown', why: 'the image manifest is malformed' };
  const type = declared ?? (isImageManifestMediaType(header) ? header : undefined) ?? mediaType.ociManifest;
  return { kind: 'image', mediaType: type, manifest: manifest.data };
}

function describeValue(value: unknown): string {
  return typeof value === 'number'
    ? String(value)
    : typeof value === 'undefined'
      ? '(missing)'
      : typeof value;
}

/** An index entry that is an attestation (BuildKit writes these as `unknown/unknown`), not a runnable image. */
export function isAttestationDescriptor(descriptor: Descriptor): boolean {
  return (
    descriptor.annotations?.['vnd.docker.reference.type'] === 'attestation-manifest' ||
    (descriptor.platform?.os === 'unknown' && descriptor.platform.architecture === 'unknown')
  );
}

/**
 * The children of an index that are images for a platform: attestation manifests (`unknown/unknown`, DESIGN.md step
 * 5) are not; a child without a media type is read as an image (classified from its bytes when fetched). With
 * `nestedIndexes`, child indexes are kept too, for a walk that goes down them.
 */
export function platformImages(index: ImageIndex, options: { nestedIndexes?: boolean } = {}): Descriptor[] {
  return index.manifests.filter(
    (d) =>
      !isAttestationDescriptor(d) &&
      (isImageManifestMediaType(d.mediaType) ||
        d.mediaType === '' ||
        (options.nestedIndexes === true && isIndexMediaType(d.mediaType))),
  );
}
