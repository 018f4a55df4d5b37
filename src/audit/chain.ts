import { hash as oneShotHash } from 'node:crypto';

// The hash chain, pure: sealing, hashing and a streaming verifier. No I/O, no clock.
//
// A record's line is one JSON object whose last member is `hash`. In the current format (`v: 2`),
// `hash` = sha256 over the line's exact bytes with that last member taken out, i.e. over
// `{"v":2,"seq":…,"time":…,"prev":…,<body>}`; `prev` = the `hash` of the record before it. Because
// `prev` is inside what `hash` covers, changing any byte of any record breaks every later link
// unless every later hash is recomputed too. Hashing the bytes as written (rather than a canonical
// re-serialisation) costs one JSON.stringify and one sha256 per record on the append path, and a
// verifier needs no serialiser that must agree with the writer's.
//
// Records written by earlier versions (`v: 1`) hash their canonical JSON (keys sorted at every
// level, no whitespace, undefined omitted) without `hash`, and the line is that canonical JSON;
// they still verify, so a log that spans an upgrade verifies end to end.

/** `prev` of the very first record: there is nothing before it. */
export const GENESIS_HASH = '0'.repeat(64);

/** The record format append writes (see above); `1` is only read. */
export const CHAIN_VERSION = 2;

/** The last record the chain has reached: the next record must have seq + 1 and prev = hash. */
export interface ChainHead {
  seq: number;
  hash: string;
}

export const GENESIS_HEAD: ChainHead = { seq: 0, hash: GENESIS_HASH };

export function sha256Hex(text: string): string {
  return oneShotHash('sha256', text, 'hex');
}

/** The chain fields the log assigns to a record; `time` is an ISO string (no characters to escape). */
export interface ChainPosition {
  seq: number;
  time: string;
  prev: string;
}

/** What ends every v2 line: `,"hash":"<64 hex>"}`. */
const HASH_MEMBER_LENGTH = ',"hash":"'.length + 64 + '"}'.length;

/**
 * Seals a body onto the chain: returns its hash and its line. The body is the record's own fields
 * (`type` and the rest); it must not carry the chain fields, which come first in the line.
 */
export function seal(
  position: ChainPosition,
  body: Readonly<Record<string, unknown>>,
): { hash: string; line: string } {
  for (const key of CHAIN_KEYS) {
    if (Object.hasOwn(body, key)) throw new TypeError(`a record body cannot set the chain field "${key}"`);
  }
  const members = JSON.stringify(body).slice(1, -1);
  const unsealed = `{"v":${CHAIN_VERSION},"seq":${position.seq},"time":${JSON.stringify(position.time)},"prev":${JSON.stringify(position.prev)}${members === '' ? '' : `,${members}`}}`;
  const hash = sha256Hex(unsealed);
  return { hash, line: `${unsealed.slice(0, -1)},"hash":"${hash}"}` };
}

const CHAIN_KEYS = ['v', 'seq', 'time', 'prev', 'hash'] as const;

/** v1 only: a value's canonical JSON (keys sorted at every level, no whitespace, undefined omitted). */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    const out = JSON.stringify(value);
    if (out === undefined) throw new TypeError(`cannot serialise a ${typeof value}`);
    return out;
  }
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out += ',';
      const item: unknown = value[i];
      out += item === undefined ? 'null' : canonicalJson(item);
    }
    return `${out}]`;
  }
  const members: string[] = [];
  const obj = value as Record<string, unknown>;
  for (const key of Object.keys(obj).sort()) {
    const item = obj[key];
    if (item !== undefined) members.push(`${JSON.stringify(key)}:${canonicalJson(item)}`);
  }
  return `{${members.join(',')}}`;
}

/** v1 only: the hash a record must carry, over its canonical JSON without the `hash` field. */
export function computeHash(record: Readonly<Record<string, unknown>>): string {
  const { hash: _ignored, ...rest } = record;
  return sha256Hex(canonicalJson(rest));
}

/** The chain fields every record has, whatever its type. */
export interface ChainedRecord {
  v: number;
  type: string;
  seq: number;
  time: string;
  prev: string;
  hash: string;
  [field: string]: unknown;
}

const HEX64 = /^[a-f0-9]{64}$/;

/** Parses a line into a record with well-formed chain fields, or undefined. Does not check the hash. */
export function parseChainedLine(line: string): ChainedRecord | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return undefined;
  const r = parsed as Record<string, unknown>;
  if ((r.v !== 1 && r.v !== CHAIN_VERSION) || typeof r.type !== 'string' || typeof r.time !== 'string') {
    return undefined;
  }
  if (typeof r.seq !== 'number' || !Number.isSafeInteger(r.seq) || r.seq < 1) return undefined;
  if (typeof r.prev !== 'string' || !HEX64.test(r.prev)) return undefined;
  if (typeof r.hash !== 'string' || !HEX64.test(r.hash)) return undefined;
  return r as ChainedRecord;
}

/** True when the line's bytes are the ones its hash was computed over (see the top of this file). */
export function lineIsIntact(line: string, record: ChainedRecord): boolean {
  if (record.v === 1) return computeHash(record) === record.hash && canonicalJson(record) === line;
  return (
    line.length > HASH_MEMBER_LENGTH &&
    line.endsWith(`,"hash":"${record.hash}"}`) &&
    sha256Hex(`${line.slice(0, -HASH_MEMBER_LENGTH)}}`) === record.hash
  );
}

export type ChainProblem = 'edited' | 'deleted' | 'reordered' | 'truncated' | 'torn' | 'malformed';

/** Where a line is: the file (a name, for reports) and its 1-based line number in that file. */
export interface LineLocation {
  file: string;
  line: number;
}

export interface ChainBreak {
  ok: false;
  problem: ChainProblem;
  file: string;
  line: number;
  /** The seq of the broken record, or of the first missing one for `deleted` and `truncated`. */
  seq?: number;
  message: string;
}

interface Seen {
  loc: LineLocation;
  seq: number;
}

interface Gap {
  loc: LineLocation;
  seq: number;
  expected: number;
  /** The record after the gap is the first of its file: the previous file lost its tail. */
  atFileStart: boolean;
  previous: Seen | undefined;
}

/**
 * Checks records one line at a time, so a directory of large files is verified in constant memory.
 * Feed it with push(); call finish() at the end. A seq gap is only reported when the next line has
 * been seen, because a gap followed by the missing seq is a reordering, not a deletion.
 */
export class ChainVerifier {
  private head: ChainHead;
  private last: Seen | undefined;
  private gap: Gap | undefined;
  private count = 0;

  constructor(start: ChainHead = GENESIS_HEAD) {
    this.head = { ...start };
  }

  /** The last verified record (or the start, before any). */
  get position(): ChainHead {
    return { ...this.head };
  }

  get verified(): number {
    return this.count;
  }

  push(line: string, loc: LineLocation, atFileStart = false): ChainBreak | ChainedRecord {
    const record = parseChainedLine(line);
    if (record === undefined) {
      return (
        this.resolveGap() ?? this.fail('malformed', loc, undefined, 'not a JSON record with chain fields')
      );
    }
    if (!lineIsIntact(line, record)) {
      return (
        this.resolveGap() ??
        this.fail(
          'edited',
          loc,
          record.seq,
          `record ${record.seq} does not match its hash: it was changed after it was written`,
        )
      );
    }
    const gap = this.takeGap();
    if (gap !== undefined) {
      if (record.seq <= gap.seq) {
        return this.fail(
          'reordered',
          gap.loc,
          gap.seq,
          `record ${gap.seq} appears before record ${record.seq}: records are out of order`,
        );
      }
      return this.gapBreak(gap);
    }
    const expected = this.head.seq + 1;
    if (record.seq < expected) {
      return this.fail(
        'reordered',
        loc,
        record.seq,
        `record ${record.seq} appears after record ${this.head.seq}: records are out of order or repeated`,
      );
    }
    if (record.seq > expected) {
      // Decided on the next line (or at finish): reordered if a lower seq follows, else deleted.
      this.gap = { loc, seq: record.seq, expected, atFileStart, previous: this.last };
      this.advance(record, loc);
      return record;
    }
    if (record.prev !== this.head.hash) {
      // The seq is right but the link is not: the record before was rewritten and its hash
      // recomputed (or this one was forged). Blame the earlier record, the first one that changed.
      if (this.last !== undefined) {
        return this.fail(
          'edited',
          this.last.loc,
          this.last.seq,
          `record ${this.last.seq} is not the record that record ${record.seq} follows: it was rewritten`,
        );
      }
      return this.fail('edited', loc, record.seq, `record ${record.seq} does not follow the chain's start`);
    }
    this.advance(record, loc);
    return record;
  }

  /** An unterminated last piece of a file: a write cut short by a crash, or a file cut mid-line. */
  tail(loc: LineLocation): ChainBreak {
    return this.resolveGap() ?? this.fail('torn', loc, this.head.seq + 1, 'the last line is incomplete');
  }

  /** A file ended here and the next file does not continue it: used when a file is missing its tail. */
  finish(): ChainBreak | undefined {
    return this.resolveGap();
  }

  private advance(record: ChainedRecord, loc: LineLocation): void {
    this.head = { seq: record.seq, hash: record.hash };
    this.last = { loc, seq: record.seq };
    this.count++;
  }

  private resolveGap(): ChainBreak | undefined {
    const gap = this.takeGap();
    return gap === undefined ? undefined : this.gapBreak(gap);
  }

  /**
   * The undecided gap, if any, now being decided. The record after it was counted when it was read; every decided
   * gap is a break, and that record's link to its missing predecessor was never verified, so it stops counting as
   * verified before the break.
   */
  private takeGap(): Gap | undefined {
    const gap = this.gap;
    if (gap === undefined) return undefined;
    this.gap = undefined;
    this.count--;
    return gap;
  }

  private gapBreak(gap: Gap): ChainBreak {
    const missing =
      gap.seq - gap.expected === 1
        ? `record ${gap.expected} is`
        : `records ${gap.expected}..${gap.seq - 1} are`;
    if (gap.atFileStart && gap.previous !== undefined) {
      const prevLoc = gap.previous.loc;
      return this.fail(
        'truncated',
        { file: prevLoc.file, line: prevLoc.line + 1 },
        gap.expected,
        `${missing} missing: ${prevLoc.file} ends early (truncated) or a file between it and ${gap.loc.file} was removed`,
      );
    }
    return this.fail('deleted', gap.loc, gap.expected, `${missing} missing before record ${gap.seq}`);
  }

  private fail(
    problem: ChainProblem,
    loc: LineLocation,
    seq: number | undefined,
    message: string,
  ): ChainBreak {
    return {
      ok: false,
      problem,
      file: loc.file,
      line: loc.line,
      ...(seq === undefined ? {} : { seq }),
      message,
    };
  }
}

export function isChainBreak(value: ChainBreak | ChainedRecord): value is ChainBreak {
  return (value as { ok?: unknown }).ok === false;
}

export type VerifyLinesResult = { ok: true; records: ChainedRecord[]; head: ChainHead } | ChainBreak;

/**
 * Verifies one file's content split on '\n' (so a file that ends in a newline has a final '' and
 * one that does not has an incomplete last piece, reported as `torn`). `start` is the head the
 * first record must follow: genesis, the previous file's last record, or the chain anchor.
 */
export function verifyLines(
  lines: readonly string[],
  start: ChainHead = GENESIS_HEAD,
  file = '<lines>',
): VerifyLinesResult {
  const verifier = new ChainVerifier(start);
  const records: ChainedRecord[] = [];
  const lastIndex = lines.length - 1;
  for (const [i, line] of lines.entries()) {
    const loc = { file, line: i + 1 };
    if (i === lastIndex) {
      if (line === '') break;
      return verifier.tail(loc);
    }
    const out = verifier.push(line, loc);
    if (isChainBreak(out)) return out;
    records.push(out);
  }
  return verifier.finish() ?? { ok: true, records, head: verifier.position };
}
