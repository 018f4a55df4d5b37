import { join } from 'node:path';
import { type ChainHead, type ChainProblem, ChainVerifier, GENESIS_HEAD, isChainBreak } from './chain.js';
import {
  anchorHead,
  type ChainAnchor,
  listLogFiles,
  logFileName,
  readAnchor,
  readFileLines,
} from './files.js';

export interface VerifyOptions {
  /**
   * A head saved earlier (from a report, the admin API or a SIEM). Without it, cutting whole
   * records off the end of the newest file cannot be told apart from a log that simply ends there.
   */
  expectHead?: ChainHead;
}

interface ReportBase {
  dir: string;
  files: number;
  /** Records verified (for a failed report: before the break). */
  records: number;
  /** Where the chain starts when retention has deleted older files. */
  anchor?: ChainAnchor;
  /** Files wholly before the anchor: left by a retention pass that stopped before deleting them. */
  beforeAnchor: string[];
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
  problem: ChainProblem;
  file: string;
  line: number;
  seq?: number;
  message: string;
}

export type VerifyReport = VerifyOk | VerifyBroken;

/**
 * Checks the whole chain offline, streaming every file once, and reports the first broken record.
 * Safe to run against a live log: the newest file's incomplete last line is reported, not failed.
 */
export async function verifyLogDir(dir: string, options: VerifyOptions = {}): Promise<VerifyReport> {
  const anchor = await readAnchor(dir);
  const all = await listLogFiles(dir);
  const anchorFileSeq = anchor === undefined ? undefined : all.find((f) => f.name === anchor.file)?.firstSeq;
  const beforeAnchor =
    anchorFileSeq === undefined ? [] : all.filter((f) => f.firstSeq < anchorFileSeq).map((f) => f.name);
  const files = all.filter((f) => !beforeAnchor.includes(f.name));
  const base: ReportBase = {
    dir,
    files: files.length,
    records: 0,
    ...(anchor === undefined ? {} : { anchor }),
    beforeAnchor,
  };

  const verifier = new ChainVerifier(anchor === undefined ? GENESIS_HEAD : anchorHead(anchor));
  const expect = options.expectHead;
  let expectSeen = false;
  let tornTail: VerifyOk['tornTail'];

  const broken = (b: Omit<VerifyBroken, keyof ReportBase | 'ok'>): VerifyBroken => ({
    ...base,
    records: verifier.verified,
    ok: false,
    ...b,
  });

  for (const [k, f] of files.entries()) {
    const newest = k === files.length - 1;
    for await (const line of readFileLines(join(dir, f.name))) {
      const loc = { file: f.name, line: line.line };
      if (!line.terminated) {
        const pending = verifier.tail(loc);
        if (pending.problem !== 'torn') return broken(pending);
        if (newest) {
          tornTail = loc;
          break;
        }
        return broken({
          ...pending,
          problem: 'truncated',
          message: `${f.name} ends in an incomplete line but a newer file follows it: it was cut`,
        });
      }
      const out = verifier.push(line.text, loc, line.line === 1);
      if (isChainBreak(out)) return broken(out);
      if (expect !== undefined && out.seq === expect.seq) {
        if (out.hash !== expect.hash) {
          return broken({
            problem: 'edited',
            ...loc,
            seq: out.seq,
            message: `record ${out.seq} is not the record the expected head names: it was rewritten`,
          });
        }
        expectSeen = true;
      }
    }
  }
  const end = verifier.finish();
  if (end !== undefined) return broken(end);

  const head = verifier.position;
  if (expect !== undefined && !expectSeen) {
    const last = files[files.length - 1];
    return broken({
      problem: 'truncated',
      file: last?.name ?? logFileName(head.seq + 1),
      line: 0,
      seq: head.seq + 1,
      message: `the log ends at record ${head.seq} but record ${expect.seq} was written: records were cut from the end`,
    });
  }
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
    return lines.join('\n');
  }
  const seq = report.seq === undefined ? '' : ` (record ${report.seq})`;
  return `broken: ${report.problem} at ${report.file} line ${report.line}${seq}: ${report.message}\n${report.records} records verified ${where} before the break`;
}
