import type { ImageFacts } from '../facts.js';
import type { Finding } from '../finding.js';
import { detectSecret, findCredentialFormat } from '../secrets/detect.js';
import { reportableName } from './variable-name.js';

/** `config.Env` entries whose value looks like a credential. One finding per variable. */
export function secretEnv(facts: ImageFacts): Finding[] {
  const findings: Finding[] = [];
  for (const [index, { name, value }] of facts.env.entries()) {
    const key = reportableName(name);
    // A malformed entry's "name" may be the credential itself: judge it by shape, name it by position.
    const match = detectSecret(name, value) ?? (key === undefined ? findCredentialFormat(name) : undefined);
    if (match === undefined) continue;
    const label = key ?? `Env[${index}]`;
    findings.push({
      rule: 'secret-env',
      ...(key === undefined ? {} : { key }),
      kind: match.kind,
      message: `secret-env: ${label} ${match.reason}`,
    });
  }
  return findings;
}
