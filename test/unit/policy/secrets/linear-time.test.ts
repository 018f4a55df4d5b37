import { describe, expect, it } from 'vitest';
import { detectSecret, findCredentialFormat } from '../../../../src/policy/secrets/detect.js';

// Values come from untrusted images: a 1 MB value built to make a backtracking regex explode must be judged
// quickly (the detector caps what it scans, and its patterns are bounded).
const adversarial = [
  'a'.repeat(1_000_000),
  '${'.repeat(500_000),
  `${'A'.repeat(999_999)}!`,
  'eyJ'.repeat(300_000),
  `${'0'.repeat(40)} `.repeat(25_000),
  'x://a:'.repeat(200_000),
  '-----BEGIN '.repeat(100_000),
  'ghp_'.repeat(250_000),
  'key_'.repeat(250_000),
];

describe('detector on huge values', () => {
  it.each(adversarial.map((v, i) => [i, v] as const))(
    'adversarial value #%i is judged in well under a second',
    (_, value) => {
      const started = performance.now();
      detectSecret('API_TOKEN', value);
      detectSecret('GPG_KEYS', value);
      findCredentialFormat(value);
      expect(performance.now() - started).toBeLessThan(1000);
    },
  );
});
