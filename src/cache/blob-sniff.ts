import type { Readable } from 'node:stream';

/** What the start of a blob says about it, for the config screen. */
export type SniffedBlob =
  /** Not JSON (a layer: gzip, zstd, tar): the body is unchanged, the peeked bytes put back. */
  | { kind: 'binary' }
  /** A JSON document read whole (at most `limit` bytes): the body is consumed. */
  | { kind: 'document'; bytes: Buffer }
  /** Starts like a JSON document but is longer than `limit`: the body is unchanged, the peeked bytes put back. */
  | { kind: 'too-large' };

const BOM = [0xef, 0xbb, 0xbf];

/**
 * Looks at the first bytes of a blob's body. Only a body whose first significant byte opens a JSON object can be
 * an image config; anything else is handed back untouched (`unshift`, no copy and no wrapper stream on the path
 * every layer takes), so layers stream as before.
 */
export async function sniffBlob(
  body: Readable,
  limit: number,
  declared: number | undefined,
): Promise<SniffedBlob> {
  const first = await readChunk(body);
  if (first === null) return { kind: 'document', bytes: Buffer.alloc(0) };
  if (!opensObject(first)) {
    body.unshift(first);
    return { kind: 'binary' };
  }
  if (declared !== undefined && declared > limit) {
    body.unshift(first);
    return { kind: 'too-large' };
  }
  const chunks = [first];
  let total = first.length;
  // read() and unshift(), not for-await: leaving a for-await loop early destroys the stream.
  for (let chunk = await readChunk(body); chunk !== null; chunk = await readChunk(body)) {
    chunks.push(chunk);
    total += chunk.length;
    if (total > limit) {
      body.unshift(Buffer.concat(chunks, total));
      return { kind: 'too-large' };
    }
  }
  return { kind: 'document', bytes: Buffer.concat(chunks, total) };
}

function opensObject(chunk: Buffer): boolean {
  let i = 0;
  if (BOM.every((b, k) => chunk[k] === b)) i = 3;
  while (i < chunk.length) {
    const c = chunk[i];
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return c === 0x7b;
    i++;
  }
  // Only white space so far (a pathological first chunk): treat it as a document, which is then read whole.
  return true;
}

/** The next chunk of a paused body, or null at its end. */
function readChunk(body: Readable): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const chunk = body.read() as Buffer | null;
      if (chunk !== null) {
        cleanup();
        resolve(chunk);
      }
    };
    const onEnd = () => {
      cleanup();
      resolve(null);
    };
    const onError = (err: Error) => {
      cleanup();
      reject(err);
    };
    const cleanup = () => {
      body.off('readable', attempt);
      body.off('end', onEnd);
      body.off('error', onError);
    };
    if (body.readableEnded) {
      resolve(null);
      return;
    }
    if (body.errored !== null) {
      reject(body.errored);
      return;
    }
    body.on('readable', attempt);
    body.once('end', onEnd);
    body.once('error', onError);
    attempt();
  });
}
