import { constants } from 'node:fs';
import { readdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AuditLog } from '../../../src/audit/index.js';
import { makeTempDir } from '../../helpers/tmp.js';
import { decisionInput } from '../../unit/audit/sample-records.js';
import { fileNames } from './log-dir.js';

// append() resolves when its write returns, and nothing else syncs the file: the write itself must be
// synchronous-data (O_DSYNC), or an acknowledged record could still be only in the page cache. Power cannot be
// cut here, so the test reads the open file's flags from /proc (proc(5), fdinfo "flags", octal).

/** The open flags of this process's descriptors for `path`. */
async function openFlags(path: string): Promise<number[]> {
  const flags: number[] = [];
  for (const fd of await readdir('/proc/self/fd')) {
    const target = await readlink(`/proc/self/fd/${fd}`).catch(() => '');
    if (target !== path) continue;
    const info = await readFile(`/proc/self/fdinfo/${fd}`, 'utf8').catch(() => '');
    const m = /^flags:\s+([0-7]+)$/m.exec(info);
    if (m?.[1] !== undefined) flags.push(Number.parseInt(m[1], 8));
  }
  return flags;
}

describe('log files are written with O_DSYNC', () => {
  it('for a new file and for the file reopened after a restart', async () => {
    await using tmp = await makeTempDir('audit-dsync');
    const fresh = await AuditLog.open({ dir: tmp.path });
    await fresh.append(decisionInput({ requestId: 'first' }));
    const [name] = await fileNames(tmp.path);
    if (name === undefined) throw new Error('no log file');
    const path = join(tmp.path, name);
    const freshFlags = await openFlags(path);
    await fresh.close();

    const reopened = await AuditLog.open({ dir: tmp.path });
    await reopened.append(decisionInput({ requestId: 'after-restart' }));
    const reopenedFlags = await openFlags(path);
    await reopened.close();

    expect(freshFlags).toHaveLength(1);
    expect(reopenedFlags).toHaveLength(1);
    for (const f of [...freshFlags, ...reopenedFlags]) expect(f & constants.O_DSYNC).toBe(constants.O_DSYNC);
  });
});
