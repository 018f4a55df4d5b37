import { createServer } from 'node:net';

/** Asks the kernel for a free port on 127.0.0.1 (bind port 0, read it, close). */
export function getFreePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      srv.close(() => {
        if (addr !== null && typeof addr === 'object') resolve(addr.port);
        else reject(new Error('no port from listen(0)'));
      });
    });
  });
}

/** Thrown by a start function when its process lost the race for the port. */
export class PortInUseError extends Error {
  constructor(readonly port: number) {
    super(`port ${port} is already in use`);
    this.name = 'PortInUseError';
  }
}

/**
 * For servers that need an explicit port (the distribution registry cannot listen on 0): another
 * process may take the port between our probe and its bind, so retry on PortInUseError.
 */
export async function withFreePort<T>(start: (port: number) => Promise<T>, attempts = 8): Promise<T> {
  let last: unknown;
  for (let i = 0; i < attempts; i++) {
    const port = await getFreePort();
    try {
      return await start(port);
    } catch (e) {
      if (!(e instanceof PortInUseError)) throw e;
      last = e;
    }
  }
  throw last instanceof Error ? last : new Error('no free port');
}
