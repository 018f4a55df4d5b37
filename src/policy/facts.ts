import { z } from 'zod';

// The parts of an image config that the image rules judge: OCI image-spec config.md ("Properties") and the
// Docker image JSON it descends from. Read leniently: unknown fields pass through, and Docker writes `null`
// for empty Env/Entrypoint/Cmd/Labels/ExposedPorts (moby image/image.go, container config).
const stringList = z
  .union([z.array(z.string()), z.string()])
  .nullable()
  .optional()
  .transform((v) => (v === null || v === undefined ? [] : typeof v === 'string' ? [v] : v));

export const imageRuntimeConfigSchema = z.looseObject({
  User: z.string().nullable().optional(),
  Env: z.array(z.string()).nullable().optional(),
  Entrypoint: stringList,
  Cmd: stringList,
  ExposedPorts: z.record(z.string(), z.unknown()).nullable().optional(),
  Labels: z.record(z.string(), z.string()).nullable().optional(),
  WorkingDir: z.string().nullable().optional(),
  StopSignal: z.string().nullable().optional(),
});

export const imageHistoryEntrySchema = z.looseObject({
  created: z.string().nullable().optional(),
  created_by: z.string().nullable().optional(),
  author: z.string().nullable().optional(),
  comment: z.string().nullable().optional(),
  empty_layer: z.boolean().nullable().optional(),
});

export const imageConfigSchema = z.looseObject({
  created: z.string().nullable().optional(),
  author: z.string().nullable().optional(),
  os: z.string().nullable().optional(),
  architecture: z.string().nullable().optional(),
  variant: z.string().nullable().optional(),
  config: imageRuntimeConfigSchema.nullable().optional(),
  history: z.array(imageHistoryEntrySchema).nullable().optional(),
});
export type ImageConfig = z.infer<typeof imageConfigSchema>;

export type EnvVar = { name: string; value: string };
export type HistoryFact = { index: number; createdBy: string; emptyLayer: boolean };

export type ImageFacts = {
  /** `config.User` as written (not trimmed); undefined when absent or null. */
  user: string | undefined;
  env: EnvVar[];
  entrypoint: string[];
  cmd: string[];
  exposedPorts: string[];
  labels: Record<string, string>;
  history: HistoryFact[];
  created: string | undefined;
  os: string | undefined;
  architecture: string | undefined;
};

/**
 * Splits a `NAME=value` Env entry at the first `=` (the value may itself contain `=`). An entry without `=`
 * has an empty value, as the Docker engine treats it.
 */
export function parseEnvEntry(entry: string): EnvVar {
  const eq = entry.indexOf('=');
  return eq < 0 ? { name: entry, value: '' } : { name: entry.slice(0, eq), value: entry.slice(eq + 1) };
}

/** Typed facts from an image config JSON document. Throws a ZodError when the document is not an image config. */
export function imageFacts(config: unknown): ImageFacts {
  const doc = imageConfigSchema.parse(config);
  const runtime = doc.config ?? undefined;
  return {
    user: runtime?.User ?? undefined,
    env: (runtime?.Env ?? []).map(parseEnvEntry),
    entrypoint: runtime?.Entrypoint ?? [],
    cmd: runtime?.Cmd ?? [],
    exposedPorts: Object.keys(runtime?.ExposedPorts ?? {}),
    labels: { ...(runtime?.Labels ?? {}) },
    history: (doc.history ?? []).map((h, index) => ({
      index,
      createdBy: h.created_by ?? '',
      emptyLayer: h.empty_layer === true,
    })),
    created: doc.created ?? undefined,
    os: doc.os ?? undefined,
    architecture: doc.architecture ?? undefined,
  };
}

/**
 * Whether a JSON document could be judged as an image config: an object with a member the image rules read
 * (`config`, `history`) or that every image config has (`rootfs`, `architecture` + `os`). Used where a blob is
 * asked for by digest alone, without the manifest that would say it is a config: anything that could hold what
 * the rules look for (Env, history, User) counts, while other JSON (an SBOM, an attestation, the empty `{}` of an
 * artifact) does not, and is served as the layer it is.
 */
export function looksLikeImageConfig(doc: unknown): boolean {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return false;
  const o = doc as Record<string, unknown>;
  return (
    'config' in o ||
    'history' in o ||
    'container_config' in o ||
    'rootfs' in o ||
    ('architecture' in o && 'os' in o)
  );
}

/**
 * The facts of a blob that may be an image config, or undefined when it is not one (not UTF-8 JSON, not shaped
 * like a config). A UTF-8 byte-order mark is skipped, as some writers emit one. The bytes are only read in memory.
 */
export function configDocumentFacts(bytes: Uint8Array): ImageFacts | undefined {
  let start = 0;
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) start = 3;
  // A layer is binary (gzip, zstd, tar): skip the parse unless the first non-space byte opens an object.
  let i = start;
  while (
    i < bytes.length &&
    (bytes[i] === 0x20 || bytes[i] === 0x0a || bytes[i] === 0x0d || bytes[i] === 0x09)
  )
    i++;
  if (bytes[i] !== 0x7b) return undefined;
  let doc: unknown;
  try {
    doc = JSON.parse(
      Buffer.from(bytes.buffer, bytes.byteOffset + start, bytes.length - start).toString('utf8'),
    );
  } catch {
    return undefined;
  }
  if (!looksLikeImageConfig(doc)) return undefined;
  try {
    return imageFacts(doc);
  } catch {
    // Shaped like a config but with fields of the wrong types: read what the rules need as an empty config,
    // so the strict reading still applies (no USER = root) rather than letting it pass unjudged.
    return imageFacts({});
  }
}
