import { connect } from 'node:net';

export interface RawRequest {
  method: string;
  /** The request target exactly as sent: no normalisation, no escaping (fetch and node:http would do both). */
  target: string | Buffer;
  headers?: [string, string][];
  body?: Buffer;
  /** Give up after this long without the whole answer. Default 15 s. */
  timeoutMs?: number;
}

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/**
 * One HTTP/1.1 request over a fresh loopback socket, bytes as given: hostile request targets (NUL, raw unicode,
 * `%ZZ`, `..`) reach the server unchanged. The answer is read to the close (`Connection: close`); resolves
 * undefined when the server closes without answering. Chunked bodies are decoded.
 */
export function rawRequest(port: number, req: RawRequest): Promise<RawResponse | undefined> {
  const head = Buffer.concat([
    Buffer.from(`${req.method} `, 'latin1'),
    typeof req.target === 'string' ? Buffer.from(req.target, 'utf8') : req.target,
    Buffer.from(' HTTP/1.1\r\n', 'latin1'),
    Buffer.from(
      [
        `host: 127.0.0.1:${port}`,
        'connection: close',
        ...(req.headers ?? []).map(([k, v]) => `${k}: ${v}`),
        ...(req.body !== undefined ? [`content-length: ${req.body.length}`] : []),
      ]
        .map((line) => `${line}\r\n`)
        .join(''),
      'utf8',
    ),
    Buffer.from('\r\n', 'latin1'),
  ]);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connect(port, '127.0.0.1');
    socket.setTimeout(req.timeoutMs ?? 15_000, () =>
      socket.destroy(new Error(`no complete answer to ${req.method} within the timeout`)),
    );
    socket.on('connect', () => {
      socket.write(head);
      if (req.body !== undefined) socket.write(req.body);
    });
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    // A server may close right after its answer while our request is still being written: EPIPE/ECONNRESET
    // then are not failures as long as an answer arrived.
    socket.on('error', (err) => {
      if (chunks.length > 0) return;
      if ((err as NodeJS.ErrnoException).code === 'ECONNRESET') resolve(undefined);
      else reject(err);
    });
    socket.on('close', () => {
      const all = Buffer.concat(chunks);
      if (all.length === 0) {
        resolve(undefined);
        return;
      }
      try {
        resolve(parseResponse(all, req.method === 'HEAD'));
      } catch (err) {
        reject(err);
      }
    });
  });
}

function parseResponse(all: Buffer, head: boolean): RawResponse {
  const end = all.indexOf('\r\n\r\n');
  if (end < 0)
    throw new Error(`incomplete response head: ${JSON.stringify(all.subarray(0, 200).toString())}`);
  const lines = all.subarray(0, end).toString('latin1').split('\r\n');
  const statusLine = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '');
  if (statusLine === null) throw new Error(`bad status line: ${JSON.stringify(lines[0])}`);
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
  }
  let body = all.subarray(end + 4);
  if (head) body = Buffer.alloc(0);
  else if (/chunked/i.test(headers['transfer-encoding'] ?? '')) body = dechunk(body);
  return { status: Number(statusLine[1]), headers, body };
}

function dechunk(data: Buffer): Buffer {
  const out: Buffer[] = [];
  let at = 0;
  for (;;) {
    const lineEnd = data.indexOf('\r\n', at);
    if (lineEnd < 0) break; // cut short: return what came
    const size = Number.parseInt(data.subarray(at, lineEnd).toString('latin1'), 16);
    if (!Number.isFinite(size) || size === 0) break;
    out.push(data.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = lineEnd + 2 + size + 2;
  }
  return Buffer.concat(out);
}
