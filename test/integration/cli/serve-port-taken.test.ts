import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../helpers/proc.js';
import { makeTempDir, type TempDir } from '../../helpers/tmp.js';

// `pullgate serve` on an address another process already listens on must fail as a start-up failure: a non-zero
// exit and a message naming the address, so a supervisor restarts or alerts and a readiness loop does not wait on
// (or pass against) the other server. It exited 0 after logging a clean drain. A real listener holds the port.
let holder: Server;
let port: number;
let tmp: TempDir;

beforeAll(async () => {
  tmp = await makeTempDir('port-taken');
  holder = createServer();
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  const address = holder.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  port = address.port;
});
afterAll(async () => {
  await new Promise((resolve) => holder?.close(resolve));
  await tmp?.cleanup();
});

describe('pullgate serve when its port is taken', () => {
  it('exits non-zero, naming the address and the reason', async () => {
    const out = await run(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'serve'], {
      allowFailure: true,
      timeoutMs: 60_000,
      env: {
        ...process.env,
        PULLGATE_LISTEN: `127.0.0.1:${port}`,
        PULLGATE_DATA_DIR: join(tmp.path, 'data'),
        PULLGATE_POLICY_ENABLED: 'false',
      },
    });
    expect(out.code).toBe(1);
    expect(out.stderr).toContain(`cannot listen on 127.0.0.1:${port}`);
    expect(out.stderr).toContain('EADDRINUSE');
  });
});
