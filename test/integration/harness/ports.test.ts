import { createServer, type Server } from 'node:net';
import { describe, expect, it } from 'vitest';
import { getFreePort, PortInUseError, withFreePort } from '../../helpers/ports.js';
import { startRegistry } from '../../helpers/registry.js';

function occupy(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(port, '127.0.0.1', () => resolve(srv));
  });
}

// A registry that loses the race for its port is reported as PortInUseError, which withFreePort retries.
describe('port selection', () => {
  it('reports a taken port as PortInUseError', async () => {
    const port = await getFreePort();
    const squatter = await occupy(port);
    try {
      await expect(startRegistry({ port })).rejects.toBeInstanceOf(PortInUseError);
    } finally {
      await new Promise<void>((r) => squatter.close(() => r()));
    }
  });

  it('retries on PortInUseError and passes other errors through', async () => {
    const tried: number[] = [];
    const port = await withFreePort(async (p) => {
      tried.push(p);
      if (tried.length < 3) throw new PortInUseError(p);
      return p;
    });
    expect(tried).toHaveLength(3);
    expect(port).toBe(tried[2]);
    await expect(
      withFreePort(async () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
  });
});
