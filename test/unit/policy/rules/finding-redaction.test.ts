import { describe, expect, it } from 'vitest';
import { imageFacts } from '../../../../src/policy/facts.js';
import { evaluateImageRules } from '../../../../src/policy/rules/index.js';
import { fake } from '../secrets/fake-credentials.js';

// Findings go to logs, the decision log and clients; they carry the variable name, never the value.
describe('findings never carry a secret value', () => {
  const values = Object.entries(fake)
    .filter(([kind]) => !['gpgFingerprint', 'sha256'].includes(kind))
    .map(([, make]) => make());
  const secretParts = values.flatMap((v) => [v, ...v.split(/[\s:@/]+/).filter((part) => part.length >= 12)]);

  it('in messages or JSON, for Env and history alike', () => {
    const facts = imageFacts({
      config: { User: '0', Env: values.map((v, i) => `SECRET_${i}=${v}`) },
      history: values.flatMap((v, i) => [
        { created_by: `RUN |1 BUILD_TOKEN_${i}=${v} /bin/sh -c make # buildkit` },
        { created_by: `/bin/sh -c #(nop)  ENV API_KEY_${i}=${v}` },
        { created_by: `/bin/sh -c curl --data '${v}' https://example.com` },
      ]),
    });
    const findings = evaluateImageRules(facts);
    expect(findings.filter((f) => f.rule === 'secret-env')).toHaveLength(values.length);
    expect(findings.filter((f) => f.rule === 'secret-history').length).toBeGreaterThanOrEqual(
      values.length * 2,
    );
    const json = JSON.stringify(findings);
    for (const part of secretParts) expect(json).not.toContain(part);
    for (const f of findings) for (const part of secretParts) expect(f.message).not.toContain(part);
  });
});
