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
  // Connection strings, URL parameters, webhook paths, options, encoded PEM headers, placeholders.
  ';Password='.repeat(100_000),
  `Server=${"'".repeat(500_000)}`,
  `Password=${'{'.repeat(500_000)}`,
  'a=b '.repeat(250_000),
  `h:1${',a=b'.repeat(250_000)}`,
  `https://h/x?${'password=a&'.repeat(90_000)}`,
  'jdbc:a:'.repeat(140_000),
  'https://h/hooks/'.repeat(60_000),
  `https://h/${'hooks/'.repeat(160_000)}`,
  '-Da.password=x '.repeat(60_000),
  '--password '.repeat(90_000),
  `-p${'"'.repeat(999_000)}`,
  'LS0tLS1CRUdJTi'.repeat(70_000),
  '0123456789'.repeat(100_000),
  'Get this from the console '.repeat(40_000),
  `${'"'.repeat(999_999)}x`,
  'vault:'.repeat(160_000),
  '%env('.repeat(200_000),
];

describe('detector on huge values', () => {
  it.each(adversarial.map((v, i) => [i, v] as const))(
    'adversarial value #%i is judged in well under a second',
    (_, value) => {
      const started = performance.now();
      detectSecret('API_TOKEN', value);
      detectSecret('GPG_KEYS', value);
      detectSecret('JAVA_OPTS', value, { shell: true });
      detectSecret('COS_HMAC_ACCESS_KEY_ID', value);
      findCredentialFormat(value);
      expect(performance.now() - started).toBeLessThan(1000);
    },
  );
});
