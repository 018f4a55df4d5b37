// Child process for durability-kill9.test.ts: appends decision records as fast as it can from
// several concurrent "requests" and prints `ack <seq>` only after append() has resolved, i.e.
// after the record was fsync'd — exactly when a client would get its answer.
import { AuditLog } from '../../../src/audit/index.js';
import { decisionInput } from '../../unit/audit/sample-records.js';

const dir = process.argv[2];
if (dir === undefined) throw new Error('usage: burst-writer.ts DIR');
const log = await AuditLog.open({ dir, maxFileBytes: 16 * 1024 });
process.stdout.write('ready\n');

let n = 0;
async function request(worker: number): Promise<void> {
  for (;;) {
    const record = await log.append(decisionInput({ requestId: `w${worker}-${n++}` }));
    process.stdout.write(`ack ${record.seq}\n`);
  }
}
for (let w = 0; w < 32; w++) void request(w);
