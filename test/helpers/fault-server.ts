import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface FaultServer {
  url: string;
  /** Requests seen, as "METHOD path". */
  requests: string[];
  /** Sockets the server saw close before it finished a response (client went away). */
  abortedResponses(): number;
  stop(): Promise<void>;
}

/**
 * An in-process upstream on a real loopback socket, for faults a real registry cannot produce: wrong bytes under
 * the right headers, resets, stalls. Acceptance tests use the real registry; these only prove fault handling.
 */
export async function startFaultServer(
  handler: (req: IncomingMessage, res: ServerResponse) => void | Promise<void>,
): Promise<FaultServer> {
  const requests: string[] = [];
  let aborted = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    res.on('close', () => {
      if (!res.writableFinished) aborted++;
    });
    Promise.resolve(handler(req, res)).catch(() => res.destroy());
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    abortedResponses: () => aborted,
    stop: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * What the real registry answers to the request a fault server received, for fault servers that forward every
 * request but the one they break. Keeps the headers a pull depends on.
 */
export async function askRegistry(
  registryUrl: string,
  req: IncomingMessage,
): Promise<{ status: number; headers: Record<string, string>; body: Buffer }> {
  const answer = await fetch(`${registryUrl}${req.url ?? '/'}`, {
    method: req.method,
    headers: { accept: req.headers.accept ?? '*/*' },
  });
  const body = Buffer.from(await answer.arrayBuffer());
  const headers: Record<string, string> = {};
  for (const name of ['content-type', 'content-length', 'docker-content-digest']) {
    const value = answer.headers.get(name);
    if (value !== null) headers[name] = value;
  }
  return { status: answer.status, headers, body };
}
