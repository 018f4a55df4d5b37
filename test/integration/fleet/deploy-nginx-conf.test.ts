import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { run } from '../../helpers/proc.js';
import { makeTempDir } from '../../helpers/tmp.js';

// deploy/nginx.conf, the compose profile's balancer, checked by the real nginx (`nginx -t`): the service names only
// resolve inside compose, so they are replaced by loopback addresses, and the log paths by the temp dir; nothing else is
// changed.
describe('deploy/nginx.conf', () => {
  it('is a configuration nginx accepts, balancing over both replicas', async () => {
    await using tmp = await makeTempDir('nginx-conf');
    const conf = await readFile('deploy/nginx.conf', 'utf8');
    expect(conf).toMatch(/server pullgate-a:5000/);
    expect(conf).toMatch(/server pullgate-b:5000/);
    const local = conf
      .replace('pullgate-a:5000', '127.0.0.1:5001')
      .replace('pullgate-b:5000', '127.0.0.1:5002')
      .replaceAll('/var/log/nginx/', `${tmp.path}/`);
    const path = join(tmp.path, 'nginx.conf');
    await writeFile(path, local);
    const out = await run(
      '/usr/sbin/nginx',
      ['-t', '-q', '-p', tmp.path, '-c', path, '-g', `pid ${tmp.path}/pid;`],
      {
        allowFailure: true,
      },
    );
    expect(out.stderr).toBe('');
    expect(out.code).toBe(0);
  });
});
