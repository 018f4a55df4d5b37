import { createReadStream } from 'node:fs';
import { open, readdir, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import type { ChainHead } from './chain.js';

// The on-disk layout of the log directory:
//   decisions-<first seq, 12+ digits>.jsonl   one file per rotation; name order = chain order
//   chain-anchor.json                         where the kept chain starts once retention has
//                                             deleted the oldest files (absent until then)
//   checkpoint                                the latest checkpoint note (checkpoint.ts), replaced
//                                             atomically at least once a second while records arrive

const FILE_PATTERN = /^decisions-(\d{12,})\.jsonl$/;
export const ANCHOR_FILE = 'chain-anchor.json';
export const CHECKPOINT_FILE = 'checkpoint';

export interface LogFile {
  name: string;
  /** The seq of the first record the file was created for (from its name). */
  firstSeq: number;
}

export function logFileName(firstSeq: number): string {
  return `decisions-${String(firstSeq).padStart(12, '0')}.jsonl`;
}

/** The log files in chain order, oldest first. A missing directory has none. */
export async function listLogFiles(dir: string): Promise<LogFile[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return [];
    throw err;
  }
  const files: LogFile[] = [];
  for (const name of names) {
    const m = FILE_PATTERN.exec(name);
    if (m?.[1] !== undefined) files.push({ name, firstSeq: Number(m[1]) });
  }
  return files.sort((a, b) => a.firstSeq - b.firstSeq);
}

const anchorSchema = z.object({
  v: z.literal(1),
  /** The last record retention deleted: the first kept record has seq + 1 and prev = hash. */
  seq: z.number().int().nonnegative(),
  hash: z.string().regex(/^[a-f0-9]{64}$/),
  /** The first kept file when the anchor was written. */
  file: z.string(),
  time: z.string(),
});
export type ChainAnchor = z.infer<typeof anchorSchema>;

export async function readAnchor(dir: string): Promise<ChainAnchor | undefined> {
  let text: string;
  try {
    text = await readFile(join(dir, ANCHOR_FILE), 'utf8');
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return undefined;
    throw err;
  }
  const parsed = anchorSchema.safeParse(JSON.parse(text));
  if (!parsed.success) throw new Error(`${ANCHOR_FILE} is not a valid chain anchor`);
  return parsed.data;
}

export function anchorHead(anchor: ChainAnchor): ChainHead {
  return { seq: anchor.seq, hash: anchor.hash };
}

/** Replaces the anchor atomically and durably: temp file, fsync, rename, fsync the directory. */
export async function writeAnchor(dir: string, anchor: ChainAnchor): Promise<void> {
  await replaceFile(dir, ANCHOR_FILE, `${JSON.stringify(anchor)}\n`);
}

/** Replaces `dir/name` atomically and durably: a reader sees the old content or the new, never a mix. */
export async function replaceFile(dir: string, name: string, content: string): Promise<void> {
  const tmp = join(dir, `${name}.tmp`);
  const fh = await open(tmp, 'w');
  try {
    await fh.writeFile(content);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, join(dir, name));
  await syncDir(dir);
}

/** Makes created, renamed and deleted directory entries durable (fsync(2) on the directory). */
export async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

export interface FileLine {
  text: string;
  /** 1-based. */
  line: number;
  /** False for a last piece with no newline after it: a write in progress or cut short. */
  terminated: boolean;
}

/**
 * Streams a file's lines without loading it whole. Splits on the newline byte, which never occurs
 * inside a multi-byte UTF-8 sequence, so a chunk boundary cannot split a character wrongly.
 */
export async function* readFileLines(path: string): AsyncGenerator<FileLine> {
  const stream = createReadStream(path);
  let carry: Buffer[] = [];
  let line = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      let start = 0;
      for (;;) {
        const nl = chunk.indexOf(10, start);
        if (nl === -1) break;
        const piece = chunk.subarray(start, nl);
        const text =
          carry.length === 0 ? piece.toString('utf8') : Buffer.concat([...carry, piece]).toString('utf8');
        carry = [];
        line++;
        yield { text, line, terminated: true };
        start = nl + 1;
      }
      if (start < chunk.length) carry.push(chunk.subarray(start));
    }
  } finally {
    stream.destroy();
  }
  if (carry.length > 0)
    yield { text: Buffer.concat(carry).toString('utf8'), line: line + 1, terminated: false };
}

export function isErrno(err: unknown, code: string): boolean {
  return err instanceof Error && (err as NodeJS.ErrnoException).code === code;
}
