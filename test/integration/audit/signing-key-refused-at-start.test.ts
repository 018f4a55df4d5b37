import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { run } from '../../helpers/proc.js';
import { makeTempDir } from '../../helpers/tmp.js';
import { writeKeyFiles } from './checkpoint-setup.js';

describe('pullgate serve with a signing key inside the data directory', () => {
  it('refuses to start, naming the file and the problem, and never prints the key', async () => {
    await using tmp = await makeTempDir('key-refused');
    const dataDir = join(tmp.path, 'data');
    await mkdir(dataDir);
    const keys = await writeKeyFiles(dataDir);
    const out = await run(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'serve'], {
      allowFailure: true,
      timeoutMs: 60_000,
      env: {
        ...process.env,
        PULLGATE_LISTEN: '127.0.0.1:0',
        PULLGATE_DATA_DIR: dataDir,
        PULLGATE_AUDIT_SIGNING_KEY_FILE: keys.privateKey,
      },
    });
    expect(out.code).toBe(2);
    expect(out.stderr).toContain(
      `PULLGATE_AUDIT_SIGNING_KEY_FILE: ${keys.privateKey} is inside the data directory`,
    );
    expect(out.stderr + out.stdout).not.toContain('PRIVATE KEY');
  });
});
