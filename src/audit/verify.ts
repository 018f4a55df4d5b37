import type { KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type ChainHead,
  type ChainProblem,
  ChainVerifier,
  GENESIS_HASH,
  GENESIS_HEAD,
  isChainBreak,
} from './chain.js';
import { type Checkpoint, openCheckpoint } from './checkpoint.js';
import {
  ANCHOR_FILE,
  anchorHead,
  CHECKPOINT_FILE,
  type ChainAnchor,
  isErrno,
  listLogFiles,
  logFileName,
  readAnchor,
  readFileLines,
} from './files.js';
import { MAX_NOTE_BYTES } from './note.js';

/** A checkpoint to check the chain against, e.g. one kept by a SIEM: where it came from, and its content. */
export interface CheckpointInput {
  source: string;
  content: string;
}

export interface VerifyOptions {
  /**
   * A head saved earlier (from a report, the admin API or a SIEM). Without it, cutting whole
   * records off the end of the newest file cannot be told apart from a log that simply ends there.
   */
  expectHead?: ChainHead;
  /** Checkpoints kept outside the data directory (`--checkpoint`); the log's own `checkpoint` is read too. */
  checkpoints?: readonly CheckpointInput[];
  /**
   * The public key the checkpoints must be signed with. With it, every checkpoint (the log's own included, which
   * must then exist) has to carry a verifying signature; without it checkpoints are read unauthenticated.
   */
  publicKey?: KeyObject;
  /** Read `<dir>/checkpoint` as well. Default true. */
  localCheckpoint?: boolean;
}

/** What verify did with a checkpoint. */
export interface CheckpointReport extends Checkpoint {
  source: string;
  /** True when its signature was verified with the public key. */
  signed: boolean;
  /** `matched`: the chain's record `size` has its hash; `before-anchor`: retention deleted that record. */
  status: 'matched' | 'before-anchor';
}

export type VerifyProblem = ChainProblem | 'rewritten' | 'bad-signature';

interface ReportBase {
  dir: string;
  files: number;
  /** Records verified (for a failed report: before the break). */
  records: number;
  /** Where the chain starts when retention has deleted older files. */
  anchor?: ChainAnchor;
  /** Files wholly before the anchor: left by a retention pass that stopped before deleting them. */
  beforeAnchor: string[];
  /** The checkpoints checked (for a failed report: those read before the break). */
  checkpoints: CheckpointReport[];
}

export interface VerifyOk extends ReportBase {
  ok: true;
  /** The last record: save it and pass it back as `expectHead` to detect truncation later. */
  head: ChainHead;
  /**
   * An incomplete last line in the newest file: a write in progress, or one cut short by a crash
   * (never an acknowledged record; the writer cuts it when it next starts).
   */
  tornTail?: { file: string; line: number };
}

export interface VerifyBroken extends ReportBase {
  ok: false;
  problem: VerifyProblem;
  file: string;
  line: number;
  seq?: number;
  message: string;
}

export type VerifyReport = VerifyOk | VerifyBroken;

interface Expectation {
  source: string;
  checkpoint: Checkpoint;
  /** A signed checkpoint: a mismatch is a rewrite. An unsigned one is trusted only as far as its source. */
  signed: boolean;
  report?: CheckpointReport;
}

type Opened =
  | { ok: true; expectations: Expectation[]; missingLocal?: Omit<VerifyBroken, keyof ReportBase | 'ok'> }
  | { ok: false; broken: Omit<VerifyBroken, keyof ReportBase | 'ok'> };

async function readLocalCheckpoint(dir: string): Promise<string | undefined> {
  try {
    const fh = await readFile(join(dir, CHECKPOINT_FILE));
    return fh.subarray(0, MAX_NOTE_BYTES + 1).toString('utf8');
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return undefined;
    throw err;
  }
}

/** Reads and authenticates every checkpoint before the chain is read: a forged one fails at once. */
async function openCheckpoints(dir: string, options: VerifyOptions): Promise<Opened> {
  const inputs: CheckpointInput[] = [...(options.checkpoints ?? [])];
  let missingLocal: Omit<VerifyBroken, keyof ReportBase | 'ok'> | undefined;
  if (options.localCheckpoint !== false) {
    const local = await readLocalCheckpoint(dir);
    const source = join(dir, CHECKPOINT_FILE);
    if (local !== undefined) inputs.push({ source, content: local });
    else if (options.publicKey !== undefined) {
      // Reported after the chain was checked against the other checkpoints, whose findings say more.
      missingLocal = {
        problem: 'bad-signature',
        file: source,
        line: 0,
        message: `there is no checkpoint at ${source} to verify: it was deleted, or the log was written without a signing key`,
      };
    }
  }
  const expectations: Expectation[] = [];
  for (const input of inputs) {
    const opened = openCheckpoint(input.content, options.publicKey);
    if (!opened.ok) {
      return {
        ok: false,
        broken: {
          problem: options.publicKey !== undefined ? 'bad-signature' : 'malformed',
          file: input.source,
          line: 0,
          message: `the checkpoint ${input.source} ${options.publicKey !== undefined ? 'is not signed by the given key' : 'cannot be read'}: ${opened.reason}`,
        },
      };
    }
    expectations.push({ source: input.source, checkpoint: opened.checkpoint, signed: opened.signed });
  }
  if (options.expectHead !== undefined) {
    expectations.push({
      source: 'the expected head',
      checkpoint: { origin: '-', size: options.expectHead.seq, hash: options.expectHead.hash },
      signed: false,
    });
  }
  return { ok: true, expectations, ...(missingLocal === undefined ? {} : { missingLocal }) };
}

function rewritten(
  e: Expectation,
  seq: number,
  file: string,
  line: number,
): Omit<VerifyBroken, keyof ReportBase | 'ok'> {
  return {
    problem: 'rewritten',
    file,
    line,
    seq,
    message: `record ${seq} is not the record ${e.signed ? 'the signed checkpoint' : 'the checkpoint'} ${e.source} names: the chain up to it was rewritten (records changed, removed or added and the hashes recomputed)`,
  };
}

function matched(e: Expectation, status: CheckpointReport['status']): CheckpointReport {
  return { source: e.source, ...e.checkpoint, signed: e.signed, status };
}

/**
 * Checks the whole chain offline, streaming every file once, and reports the first broken record.
 * Safe to run against a live log: the newest file's incomplete last line is reported, not failed.
 * Checkpoints (the log's own and any given) are then held against the chain: a record they name must have the
 * hash they carry (else the chain was rewritten), and the chain must reach every one of them (else truncated).
 */
export async function verifyLogDir(dir: string, options: VerifyOptions = {}): Promise<VerifyReport> {
  const anchor = await readAnchor(dir);
  const all = await listLogFiles(dir);
  const anchorFileSeq = anchor === undefined ? undefined : all.find((f) => f.name === anchor.file)?.firstSeq;
  const beforeAnchor =
    anchorFileSeq === undefined ? [] : all.filter((f) => f.firstSeq < anchorFileSeq).map((f) => f.name);
  const files = all.filter((f) => !beforeAnchor.includes(f.name));
  const checkpoints: CheckpointReport[] = [];
  const base: ReportBase = {
    dir,
    files: files.length,
    records: 0,
    ...(anchor === undefined ? {} : { anchor }),
    beforeAnchor,
    checkpoints,
  };

  const start = anchor === undefined ? GENESIS_HEAD : anchorHead(anchor);
  const verifier = new ChainVerifier(start);
  let tornTail: VerifyOk['tornTail'];

  const broken = (b: Omit<VerifyBroken, keyof ReportBase | 'ok'>): VerifyBroken => ({
    ...base,
    records: verifier.verified,
    ok: false,
    ...b,
  });

  const opened = await openCheckpoints(dir, options);
  if (!opened.ok) return broken(opened.broken);
  // Checkpoints at or before where the kept chain starts are checked against that start (genesis or anchor).
  const pending = new Map<number, Expectation[]>();
  for (const e of opened.expectations) {
    const { size, hash } = e.checkpoint;
    if (size < start.seq) {
      checkpoints.push(matched(e, 'before-anchor'));
    } else if (size === start.seq) {
      if (hash !== (size === 0 ? GENESIS_HASH : start.hash)) {
        return broken(rewritten(e, size, anchor === undefined ? dir : join(dir, ANCHOR_FILE), 0));
      }
      checkpoints.push(matched(e, 'matched'));
    } else {
      pending.set(size, [...(pending.get(size) ?? []), e]);
    }
  }

  for (const [k, f] of files.entries()) {
    const newest = k === files.length - 1;
    for await (const line of readFileLines(join(dir, f.name))) {
      const loc = { file: f.name, line: line.line };
      if (!line.terminated) {
        const torn = verifier.tail(loc);
        if (torn.problem !== 'torn') return broken(torn);
        if (newest) {
          tornTail = loc;
          break;
        }
        return broken({
          ...torn,
          problem: 'truncated',
          message: `${f.name} ends in an incomplete line but a newer file follows it: it was cut`,
        });
      }
      const out = verifier.push(line.text, loc, line.line === 1);
      if (isChainBreak(out)) return broken(out);
      const expected = pending.get(out.seq);
      if (expected !== undefined) {
        for (const e of expected) {
          if (out.hash !== e.checkpoint.hash) return broken(rewritten(e, out.seq, loc.file, loc.line));
          checkpoints.push(matched(e, 'matched'));
        }
        pending.delete(out.seq);
      }
    }
  }
  const end = verifier.finish();
  if (end !== undefined) return broken(end);

  const head = verifier.position;
  const unreached = [...pending.values()].flat().sort((a, b) => b.checkpoint.size - a.checkpoint.size)[0];
  if (unreached !== undefined) {
    const last = files[files.length - 1];
    return broken({
      problem: 'truncated',
      file: last?.name ?? logFileName(head.seq + 1),
      line: 0,
      seq: head.seq + 1,
      message: `the log ends at record ${head.seq} but ${unreached.source} says ${unreached.checkpoint.size} were written: records were cut from the end`,
    });
  }
  if (opened.missingLocal !== undefined) return broken(opened.missingLocal);
  return {
    ...base,
    records: verifier.verified,
    ok: true,
    head,
    ...(tornTail === undefined ? {} : { tornTail }),
  };
}

/** One human-readable paragraph for `pullgate log verify`. */
export function formatVerifyReport(report: VerifyReport): string {
  const where =
    report.anchor === undefined ? 'from the start' : `from the anchor after record ${report.anchor.seq}`;
  if (report.ok) {
    const lines = [
      `ok: ${report.records} records in ${report.files} files verified ${where}; head is record ${report.head.seq} (${report.head.hash})`,
    ];
    if (report.tornTail !== undefined) {
      lines.push(
        `note: ${report.tornTail.file} line ${report.tornTail.line} is incomplete (a write in progress or cut short by a crash; never an acknowledged record)`,
      );
    }
    if (report.beforeAnchor.length > 0)
      lines.push(`note: not verified, older than the anchor: ${report.beforeAnchor.join(', ')}`);
    for (const c of report.checkpoints) {
      const how = c.signed ? 'signed' : 'not authenticated (no --public-key)';
      lines.push(
        c.status === 'matched'
          ? `checkpoint ${c.source} (${c.origin}, ${how}): the chain matches it at record ${c.size}`
          : `note: checkpoint ${c.source} names record ${c.size}, which retention deleted: not checked`,
      );
    }
    if (report.checkpoints.length === 0)
      lines.push('note: no checkpoint: records cut from the end of the newest file cannot be detected');
    const covered = Math.max(...report.checkpoints.map((c) => c.size));
    if (report.checkpoints.length > 0 && report.head.seq > covered) {
      lines.push(
        `note: records ${covered + 1}..${report.head.seq} are newer than the newest checkpoint: no checkpoint covers them yet`,
      );
    }
    return lines.join('\n');
  }
  const seq = report.seq === undefined ? '' : ` (record ${report.seq})`;
  // Line 0: the problem is with a file as a whole (a checkpoint, a log cut at its end), not one of its lines.
  const line = report.line > 0 ? ` line ${report.line}` : '';
  return `broken: ${report.problem} at ${report.file}${line}${seq}: ${report.message}\n${report.records} records verified ${where} before the break`;
}
