import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CommandError,
  groupAlive,
  processAlive,
  run,
  startProcess,
  waitForFile,
} from '../../helpers/proc.js';
import { makeTempDir, type TempDir } from '../../helpers/tmp.js';

// stop() ends a daemon and every child it started; run() rejects with the command's stderr.
describe('proc helpers', () => {
  let dir: TempDir;

  beforeAll(async () => {
    dir = await makeTempDir('proc');
  });
  afterAll(async () => {
    await dir?.cleanup();
  });

  it('stop() kills the whole process group, children included', async () => {
    const pidFile = join(dir.path, 'child.pid');
    // The shell ignores SIGTERM, so only the SIGKILL after the grace period ends it.
    const daemon = await startProcess(
      'sh',
      ['-c', `trap '' TERM; sleep 300 & echo $! > ${pidFile}.tmp; mv ${pidFile}.tmp ${pidFile}; wait`],
      { logPath: join(dir.path, 'sh.log') },
    );
    await waitForFile(pidFile);
    const childPid = Number((await readFile(pidFile, 'utf8')).trim());
    expect(processAlive(childPid)).toBe(true);
    await daemon.stop(300);
    expect(processAlive(daemon.pid)).toBe(false);
    expect(processAlive(childPid)).toBe(false);
    expect(groupAlive(daemon.pid)).toBe(false);
    expect(daemon.exitStatus()?.signal).toBe('SIGKILL');
  });

  it('run() resolves with output and rejects with stderr on a non-zero exit', async () => {
    await expect(run('sh', ['-c', 'echo out; echo err >&2'])).resolves.toEqual({
      code: 0,
      stdout: 'out\n',
      stderr: 'err\n',
    });
    const failure = run('sh', ['-c', 'echo broken pipe dream >&2; exit 3']);
    await expect(failure).rejects.toBeInstanceOf(CommandError);
    await expect(failure).rejects.toThrow(/exited with 3: broken pipe dream/);
    const tolerated = await run('sh', ['-c', 'exit 4'], { allowFailure: true });
    expect(tolerated.code).toBe(4);
  });
});
