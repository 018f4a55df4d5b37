import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { listLogFiles } from '../../../src/audit/files.js';
import { AuditLog, type AuditLogOptions, type AuditRecord } from '../../../src/audit/index.js';
import { decisionInput } from '../../unit/audit/sample-records.js';

/** Writes `count` decision records (request ids r1..rN) and closes the log. */
export async function writeDecisions(options: AuditLogOptions, count: number): Promise<AuditRecord[]> {
  const log = await AuditLog.open(options);
  const records: AuditRecord[] = [];
  for (let i = 1; i <= count; i++) records.push(await log.append(decisionInput({ requestId: `r${i}` })));
  await log.close();
  return records;
}

export async function fileNames(dir: string): Promise<string[]> {
  return (await listLogFiles(dir)).map((f) => f.name);
}

export async function readLines(dir: string, name: string): Promise<string[]> {
  return (await readFile(join(dir, name), 'utf8')).split('\n');
}

export async function writeLines(dir: string, name: string, lines: readonly string[]): Promise<void> {
  await writeFile(join(dir, name), lines.join('\n'));
}

/** Every seq in the log files, in file order. */
export async function allSeqs(dir: string): Promise<number[]> {
  const seqs: number[] = [];
  for (const name of await fileNames(dir)) {
    for (const line of await readLines(dir, name)) {
      if (line !== '') seqs.push((JSON.parse(line) as { seq: number }).seq);
    }
  }
  return seqs;
}
