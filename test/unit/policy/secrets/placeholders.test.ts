import { describe, expect, it } from 'vitest';
import {
  isEchoOfName,
  isFingerprintList,
  isMasked,
  isOnlyReference,
  isPlaceholder,
} from '../../../../src/policy/secrets/placeholders.js';

describe('placeholder values', () => {
  it.each([
    '',
    '  ',
    '<password>',
    '[secret key]',
    '{token}',
    'none',
    'null',
    'REDACTED',
    'your-token-here',
    'replace_me',
  ])('%j is a placeholder', (value) => {
    expect(isPlaceholder(value)).toBe(true);
  });

  it.each(['changeme', 'secret', 'hunter2', 'neo4j/neo', 'hello world'])(
    '%j is not a placeholder',
    (value) => {
      expect(isPlaceholder(value)).toBe(false);
    },
  );

  it.each(['xxxx', '********', 'ghp_xxxxxxxxxxxxxxxx', 'xoxp-XXXX-XXXX-XXXX', '####'])(
    '%j is masked',
    (value) => {
      expect(isMasked(value)).toBe(true);
    },
  );

  it.each(['xoxp-1234-abcd', 'example', 'xyz123abc', 'max'])('%j is not masked', (value) => {
    expect(isMasked(value)).toBe(false);
  });

  it.each(['$FOO', `\${FOO}`, `\${FOO:-bar}`, '$(cat /run/secrets/x)', '{{ .Token }}', '%APPDATA%'])(
    '%j is only a reference',
    (value) => {
      expect(isOnlyReference(value)).toBe(true);
    },
  );

  it('recognises GPG fingerprints and key ids, alone, grouped or listed', () => {
    expect(isFingerprintList('A035C8C19219BA821ECEA86B64E628F8D684696D')).toBe(true);
    expect(isFingerprintList('0x0A9AF2115F4687BD29803A206B73A36E6026DFCA')).toBe(true);
    expect(isFingerprintList('BCA4 3417 C3B4 85DD 128E  C6D4 B7B3 B788 A8D3 785C')).toBe(true);
    expect(
      isFingerprintList(
        '39B641343D8C104B2B146DC3F9C39DC0B9698544  \tE60913E4DF209907D8E30D96659A97C9CF2A795A',
      ),
    ).toBe(true);
    expect(isFingerprintList('A035C8C19219BA821ECEA86B64E628F8D684696')).toBe(false);
    expect(isFingerprintList('not-a-fingerprint')).toBe(false);
  });

  it('recognises values that only repeat filler words and short prefixes', () => {
    expect(isEchoOfName('ghp_key')).toBe(true);
    expect(isEchoOfName('accesskey')).toBe(true);
    expect(isEchoOfName('tvly-dev-key')).toBe(true);
    expect(isEchoOfName('ghp_ohmygodnessaleakedvalue')).toBe(false);
    expect(isEchoOfName('t0k3n')).toBe(false);
  });
});
