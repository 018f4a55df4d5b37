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
