import type { Readable } from 'node:stream';
import { UpstreamError } from './errors.js';

export class BodyTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`body exceeds ${limit} bytes`);
    this.name = 'BodyTooLargeError';
  }
}

/** Reads a whole body into memory, refusing to hold more than `limit` bytes (manifests, image configs). */
export async function readBounded(body: Readable, limit: number, declaredLength?: number): Promise<Buffer> {
  if (declaredLength !== undefined && declaredLength > limit) {
    body.destroy();
    throw new BodyTooLargeError(limit);
  }
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of body) {
    const buf = chunk as Buffer;
    total += buf.length;
    if (total > limit) {
      body.destroy();
      throw new BodyTooLargeError(limit);
    }
    chunks.push(buf);
  }
  return Buffer.concat(chunks, total);
}

export function tooLargeFromUpstream(what: string, limit: number, upstream: string): UpstreamError {
  return new UpstreamError(
    'bad-answer',
    `upstream ${what} is larger than pullgate's ${limit / 1024 / 1024} MiB limit`,
    { detail: { upstream } },
  );
}
