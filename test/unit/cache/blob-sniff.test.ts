import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { describe, expect, it } from 'vitest';
import { sniffBlob } from '../../../src/cache/blob-sniff.js';

// The config screen reads whole only what could be an image config: a JSON object. Layers stream on untouched.
const body = (...chunks: string[]) =>
  Readable.from(
    chunks.map((c) => Buffer.from(c)),
    { objectMode: false },
  );

describe('sniffBlob', () => {
  it('reads a small JSON document whole', async () => {
    expect(await sniffBlob(body('  {"config"', ':{}}'), 1024, undefined)).toEqual({
      kind: 'document',
      bytes: Buffer.from('  {"config":{}}'),
    });
  });

  it('hands a binary body back with nothing lost', async () => {
    const b = body('\x1f\x8b gzip', ' rest');
    expect((await sniffBlob(b, 1024, undefined)).kind).toBe('binary');
    expect(await text(b)).toBe('\x1f\x8b gzip rest');
  });

  it('calls a JSON document over the limit too large, with nothing lost', async () => {
    const b = body('{"a":"', 'x'.repeat(50), '"}');
    expect((await sniffBlob(b, 20, undefined)).kind).toBe('too-large');
    expect(await text(b)).toBe(`{"a":"${'x'.repeat(50)}"}`);
  });

  it('trusts a declared length over the limit without reading on', async () => {
    const b = body('{"a":1}');
    expect((await sniffBlob(b, 4, 100)).kind).toBe('too-large');
    expect(await text(b)).toBe('{"a":1}');
  });

  it('skips a UTF-8 byte-order mark', async () => {
    const bom = Buffer.from([0xef, 0xbb, 0xbf, 0x7b, 0x7d]);
    const result = await sniffBlob(Readable.from([bom]), 1024, undefined);
    expect(result.kind).toBe('document');
  });
});
