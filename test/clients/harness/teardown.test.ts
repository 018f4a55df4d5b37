import { access, readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { startContainerd } from '../../helpers/clients/containerd.js';
import { startDockerd } from '../../helpers/clients/dockerd.js';
import { pidAlive } from '../../helpers/clients/proc.js';

const gone = (path: string): Promise<boolean> =>
  access(path).then(
    () => false,
    () => true,
  );

const mountedUnder = async (dir: string): Promise<string[]> =>
  (await readFile('/proc/self/mountinfo', 'utf8'))
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((m) => m === dir || m.startsWith(`${dir}/`));

// A leaked daemon would keep running after the suite and collide with the next one.
describe('client daemons leave nothing behind', () => {
  it('containerd: stop() ends the daemon and removes its dir', async () => {
    const env = await startContainerd();
    expect(pidAlive(env.pid)).toBe(true);
    await env.stop();
    expect(pidAlive(env.pid)).toBe(false);
    expect(await gone(env.dir)).toBe(true);
  });

  it('dockerd: stop() ends dockerd and its containerd, unmounts and removes its dir', async () => {
    const env = await startDockerd({ insecureRegistries: [] });
    const { dockerd, containerd } = env.pids();
    expect(containerd).toBeTypeOf('number');
    expect(await mountedUnder(env.dir)).not.toEqual([]);
    await env.stop();
    expect(pidAlive(dockerd)).toBe(false);
    expect(containerd !== undefined && pidAlive(containerd)).toBe(false);
    expect(await mountedUnder(env.dir)).toEqual([]);
    expect(await gone(env.dir)).toBe(true);
  });
});
