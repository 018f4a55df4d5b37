import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FaultServer, startFaultServer } from '../../helpers/fault-server.js';
import { type Pullgate, startPullgate } from '../../helpers/pullgate.js';

// An upstream that answers a blob's headers and then resets before the first byte: the client's answer has not
// started, so it gets the mapped upstream fault (502 UNAVAILABLE naming the upstream), not a 500 for an internal
// error. The upstream is an in-process server over a real socket: a real registry does not reset on demand.
const bytes = randomBytes(256 * 1024);
const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
let front: FaultServer;
let pullgate: Pullgate;

beforeAll(async () => {
  front = await startFaultServer(async (req, res) => {
    res.writeHead(200, {
      'content-type': 'application/octet-stream',
      'content-length': String(bytes.length),
    });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    res.flushHeaders();
    await new Promise((r) => setTimeout(r, 50));
    req.socket.destroy();
  });
  pullgate = await startPullgate({ env: { PULLGATE_UPSTREAM: front.url } });
});
afterAll(async () => {
  await pullgate?.stop();
  await front?.stop();
});

describe('a fill that fails before its first byte', () => {
  it('answers 502 UNAVAILABLE naming the upstream', async () => {
    const res = await fetch(`${pullgate.url}/v2/library/app/blobs/${digest}`);
    expect(res.status).toBe(502);
    const body = (await res.json()) as { errors: { code: string; message: string }[] };
    expect(body.errors[0]?.code).toBe('UNAVAILABLE');
    expect(body.errors[0]?.message).toContain('upstream');
  });
});
