import type { ImageFacts } from '../facts.js';
import type { Finding } from '../finding.js';

export type UnknownAge = 'allow' | 'warn' | 'deny';

export type ImageAgeOptions = {
  maxAgeDays: number;
  /** What a build time that cannot be read means (see `buildTime`). */
  unknown: UnknownAge;
  /** The time of the pull: a fact, so the rule stays pure. */
  now: Date;
};

const DAY_MS = 86_400_000;
// Reproducible builds set SOURCE_DATE_EPOCH=0 and write 1970-01-01T00:00:00Z; Go's zero time is year 1. Nothing
// was built before 1971, so anything earlier says "no build time", not "very old".
const EARLIEST_REAL_BUILD = Date.UTC(1971, 0, 1);

export type BuildTime =
  | { kind: 'known'; at: Date }
  | { kind: 'unknown'; why: 'missing' | 'unreadable' | 'epoch' };

/** The image config's `created` (OCI image-spec config.md: RFC 3339), or why it says nothing. */
export function buildTime(created: string | undefined): BuildTime {
  if (created === undefined || created.trim() === '') return { kind: 'unknown', why: 'missing' };
  const at = Date.parse(created);
  if (Number.isNaN(at)) return { kind: 'unknown', why: 'unreadable' };
  if (at < EARLIEST_REAL_BUILD) return { kind: 'unknown', why: 'epoch' };
  return { kind: 'known', at: new Date(at) };
}

const UNKNOWN_TEXT = {
  missing: 'the image config has no created time',
  unreadable: 'the image config created time is not a date',
  epoch: 'the image config created time is zero or 1970 (a reproducible build)',
} as const;

/** Too old: built more than `maxAgeDays` days before `now`. One image config; an index is judged per platform. */
export function imageAge(facts: ImageFacts, options: ImageAgeOptions): Finding[] {
  const built = buildTime(facts.created);
  if (built.kind === 'unknown') {
    if (options.unknown === 'allow') return [];
    return [
      {
        rule: 'image-age',
        kind: 'unknown-age',
        message: `image-age: build time unknown: ${UNKNOWN_TEXT[built.why]}`,
        ...(options.unknown === 'warn' ? { warnOnly: true } : {}),
      },
    ];
  }
  const ageDays = Math.floor((options.now.getTime() - built.at.getTime()) / DAY_MS);
  if (ageDays <= options.maxAgeDays) return [];
  return [
    {
      rule: 'image-age',
      kind: 'too-old',
      message: `image-age: built ${built.at.toISOString().slice(0, 10)}, ${ageDays} days ago; the limit is ${options.maxAgeDays} days`,
    },
  ];
}
