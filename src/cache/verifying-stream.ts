import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { algorithmOf } from '../oci/digest.js';

export class DigestMismatchError extends Error {
  constructor(
    readonly expected: string,
    readonly actual: string,
  ) {
    super('blob digest mismatch');
    this.name = 'DigestMismatchError';
  }
}

/**
 * Passes bytes through while hashing them, holding back the last chunk until the digest is known. On a
 * mismatch the stream errors before its final bytes, so an HTTP client never sees a complete, clean transfer
 * of bytes that are not what the digest says (the connection is cut instead).
 */
export class VerifyingStream extends Transform {
  private readonly hash: Hash;
  private held: Buffer | undefined;

  constructor(
    private readonly expected: string,
    private readonly onMismatch?: (actual: string) => void,
  ) {
    super();
    this.hash = createHash(algorithmOf(expected));
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.hash.update(chunk);
    const previous = this.held;
    this.held = chunk;
    callback(null, previous);
  }

  override _flush(callback: TransformCallback): void {
    const actual = `${this.expected.slice(0, this.expected.indexOf(':'))}:${this.hash.digest('hex')}`;
    if (actual !== this.expected) {
      this.onMismatch?.(actual);
      callback(new DigestMismatchError(this.expected, actual));
      return;
    }
    callback(null, this.held);
  }
}
