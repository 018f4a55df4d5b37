import type { ImageDescription, PlatformDescription } from './description.js';

export interface Change<T> {
  from: T;
  to: T;
}

export interface PlatformDiff {
  platform: string;
  oldDigest: string;
  newDigest: string;
  user?: Change<string | null>;
  entrypoint?: Change<string[] | null>;
  cmd?: Change<string[] | null>;
  exposedPorts?: { added: string[]; removed: string[] };
  labels?: { added: Record<string, string>; removed: string[]; changed: Record<string, Change<string>> };
  /** Names only: env values are never shown, not even hashed. */
  env?: { added: string[]; removed: string[]; changed: string[] };
  /** `sizes`: bytes of each added or removed layer, when the manifests said. */
  layers?: { added: string[]; removed: string[]; sizes?: Record<string, number> };
  created?: Change<string | null>;
  /** `org.opencontainers.image.base.*` annotations (image-spec annotations.md). */
  baseImage?: Record<string, Change<string | null>>;
}

export interface ImageDiff {
  oldDigest: string;
  newDigest: string;
  kindChanged?: Change<string>;
  platformsAdded: string[];
  platformsRemoved: string[];
  platforms: PlatformDiff[];
}

const basePrefix = 'org.opencontainers.image.base.';

function sameList(a: readonly string[] | null, b: readonly string[] | null): boolean {
  if (a === null || b === null) return a === b;
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

function setDiff(from: readonly string[], to: readonly string[]): { added: string[]; removed: string[] } {
  const f = new Set(from);
  const t = new Set(to);
  return { added: [...t].filter((x) => !f.has(x)), removed: [...f].filter((x) => !t.has(x)) };
}

function keysDiff(from: Record<string, string>, to: Record<string, string>) {
  const added = Object.keys(to)
    .filter((k) => !(k in from))
    .sort();
  const removed = Object.keys(from)
    .filter((k) => !(k in to))
    .sort();
  const changed = Object.keys(to)
    .filter((k) => k in from && from[k] !== to[k])
    .sort();
  return { added, removed, changed };
}

/** Pure: what changed between two platform descriptions. */
export function diffPlatform(a: PlatformDescription, b: PlatformDescription): PlatformDiff {
  const d: PlatformDiff = { platform: b.platform, oldDigest: a.digest, newDigest: b.digest };
  if (a.user !== b.user) d.user = { from: a.user, to: b.user };
  if (!sameList(a.entrypoint, b.entrypoint)) d.entrypoint = { from: a.entrypoint, to: b.entrypoint };
  if (!sameList(a.cmd, b.cmd)) d.cmd = { from: a.cmd, to: b.cmd };
  const ports = setDiff(a.exposedPorts, b.exposedPorts);
  if (ports.added.length + ports.removed.length > 0) d.exposedPorts = ports;
  const labels = keysDiff(a.labels, b.labels);
  if (labels.added.length + labels.removed.length + labels.changed.length > 0) {
    d.labels = {
      added: Object.fromEntries(labels.added.map((k) => [k, b.labels[k] ?? ''])),
      removed: labels.removed,
      changed: Object.fromEntries(
        labels.changed.map((k) => [k, { from: a.labels[k] ?? '', to: b.labels[k] ?? '' }]),
      ),
    };
  }
  const env = keysDiff(a.env, b.env);
  if (env.added.length + env.removed.length + env.changed.length > 0) d.env = env;
  const layers = setDiff(a.layers, b.layers);
  if (layers.added.length + layers.removed.length > 0) {
    const known = { ...(a.layerSizes ?? {}), ...(b.layerSizes ?? {}) };
    const sizes = Object.fromEntries(
      [...layers.added, ...layers.removed].flatMap((l) => (known[l] !== undefined ? [[l, known[l]]] : [])),
    );
    d.layers = Object.keys(sizes).length > 0 ? { ...layers, sizes } : layers;
  }
  if (a.created !== b.created) d.created = { from: a.created, to: b.created };
  const baseKeys = new Set(
    [...Object.keys(a.annotations), ...Object.keys(b.annotations)].filter((k) => k.startsWith(basePrefix)),
  );
  const base: Record<string, Change<string | null>> = {};
  for (const k of [...baseKeys].sort()) {
    const from = a.annotations[k] ?? null;
    const to = b.annotations[k] ?? null;
    if (from !== to) base[k] = { from, to };
  }
  if (Object.keys(base).length > 0) d.baseImage = base;
  return d;
}

/**
 * Pure: what changed between two images, platform by platform. Two single-platform images are compared with each
 * other even when their platform strings differ (a config that lost its `variant` is still the same slot).
 */
export function diffImages(a: ImageDescription, b: ImageDescription): ImageDiff {
  const diff: ImageDiff = {
    oldDigest: a.digest,
    newDigest: b.digest,
    platformsAdded: [],
    platformsRemoved: [],
    platforms: [],
  };
  if (a.kind !== b.kind) diff.kindChanged = { from: a.kind, to: b.kind };
  const [onlyA] = a.platforms;
  const [onlyB] = b.platforms;
  if (a.platforms.length === 1 && b.platforms.length === 1 && onlyA !== undefined && onlyB !== undefined) {
    diff.platforms.push(diffPlatform(onlyA, onlyB));
    return diff;
  }
  const before = new Map(a.platforms.map((p) => [p.platform, p]));
  const after = new Map(b.platforms.map((p) => [p.platform, p]));
  for (const [name, p] of after) {
    const old = before.get(name);
    if (old === undefined) diff.platformsAdded.push(name);
    else diff.platforms.push(diffPlatform(old, p));
  }
  for (const name of before.keys()) if (!after.has(name)) diff.platformsRemoved.push(name);
  diff.platformsAdded.sort();
  diff.platformsRemoved.sort();
  return diff;
}

/** True when a platform diff records nothing beyond the digests. */
export function isEmptyPlatformDiff(d: PlatformDiff): boolean {
  return Object.keys(d).every((k) => k === 'platform' || k === 'oldDigest' || k === 'newDigest');
}
