import { connect, createServer, type Server, type Socket } from 'node:net';

export interface TcpGate {
  /** The gate's own loopback port: point clients here instead of at the target. */
  port: number;
  /** The target goes away: every open connection is reset and new ones are refused (the port is closed). */
  cut(): Promise<void>;
  /** The target comes back on the same port. */
  restore(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A TCP forwarder in front of a real server (PostgreSQL), for outages a test needs to start and end on demand:
 * stopping the real server would lose its state, and restarting it on the same port races other test servers.
 */
export async function startTcpGate(targetPort: number, targetHost = '127.0.0.1'): Promise<TcpGate> {
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let port = 0;
  const listen = async (onPort: number) => {
    const s = createServer((client) => {
      const upstream = connect(targetPort, targetHost);
      for (const socket of [client, upstream]) {
        sockets.add(socket);
        socket.on('close', () => sockets.delete(socket));
        socket.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream);
      upstream.pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.listen(onPort, '127.0.0.1', () => resolve());
    });
    server = s;
    const address = s.address();
    port = typeof address === 'object' && address !== null ? address.port : onPort;
  };
  const close = async () => {
    const s = server;
    server = undefined;
    for (const socket of sockets) socket.resetAndDestroy();
    if (s !== undefined) await new Promise<void>((resolve) => s.close(() => resolve()));
  };
  await listen(0);
  return {
    get port() {
      return port;
    },
    cut: close,
    restore: () => listen(port),
    stop: close,
  };
}
