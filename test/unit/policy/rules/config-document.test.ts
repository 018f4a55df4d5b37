import { describe, expect, it } from 'vitest';
import { configDocumentFacts, looksLikeImageConfig } from '../../../../src/policy/facts.js';

// Which blobs the config screen judges as image configs: anything the image rules could find something in.
describe('looksLikeImageConfig', () => {
  it('counts configs, and documents with the members the rules read', () => {
    expect(looksLikeImageConfig({ architecture: 'amd64', os: 'linux', rootfs: {} })).toBe(true);
    expect(looksLikeImageConfig({ config: { Env: ['A=b'] } })).toBe(true);
    expect(looksLikeImageConfig({ history: [] })).toBe(true);
  });

  it('does not count other JSON: the empty artifact config, an in-toto statement, arrays', () => {
    expect(looksLikeImageConfig({})).toBe(false);
    expect(looksLikeImageConfig({ _type: 'https://in-toto.io/Statement/v1', predicate: {} })).toBe(false);
    expect(looksLikeImageConfig([{ config: {} }])).toBe(false);
  });
});

describe('configDocumentFacts', () => {
  it('reads the facts of a config, with or without a byte-order mark', () => {
    const doc = JSON.stringify({ config: { User: '1000', Env: ['A=b'] } });
    expect(configDocumentFacts(Buffer.from(doc))?.user).toBe('1000');
    const bom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(doc)]);
    expect(configDocumentFacts(bom)?.env).toEqual([{ name: 'A', value: 'b' }]);
  });

  it('judges a config-shaped document with wrong field types as an empty config (root), not as nothing', () => {
    const facts = configDocumentFacts(Buffer.from(JSON.stringify({ config: { User: 5 } })));
    expect(facts).toBeDefined();
    expect(facts?.user).toBeUndefined();
  });

  it('skips binary and non-config JSON', () => {
    expect(configDocumentFacts(Buffer.from([0x1f, 0x8b, 0x08]))).toBeUndefined();
    expect(configDocumentFacts(Buffer.from('{"mediaType":"x"}'))).toBeUndefined();
  });
});
