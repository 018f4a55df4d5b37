import type { ImageFacts } from '../facts.js';
import type { Finding } from '../finding.js';
import { detectSecret, findCredentialFormat } from '../secrets/detect.js';
import { type AssignmentSource, parseCreatedBy } from './created-by.js';
import { reportableName } from './variable-name.js';

const WHERE: Record<AssignmentSource, string> = {
  'build-arg': 'build arg',
  env: 'ENV',
  arg: 'ARG',
  run: 'RUN variable',
};

/**
 * Build args, ENV/ARG values and shell assignments recorded in `history[].created_by` that look like
 * credentials, plus credential-shaped text anywhere in a RUN command. History outlives the layer that used the
 * secret: `docker history` shows it to anyone who can pull the image.
 */
export function secretHistory(facts: ImageFacts): Finding[] {
  const findings: Finding[] = [];
  for (const entry of facts.history) {
    if (entry.createdBy === '') continue;
    const { assignments, command } = parseCreatedBy(entry.createdBy);
    const seen = new Set<string>();
    const kinds = new Set<string>();
    for (const { name, value, source } of assignments) {
      const key = reportableName(name);
      if (key === undefined || seen.has(key)) continue;
      const match = detectSecret(name, value, { shell: source === 'run' });
      if (match === undefined) continue;
      seen.add(key);
      kinds.add(match.kind);
      findings.push({
        rule: 'secret-history',
        key,
        historyIndex: entry.index,
        kind: match.kind,
        message: `secret-history: ${WHERE[source]} ${key} in history[${entry.index}] ${match.reason}`,
      });
    }
    // A credential typed into the command itself (`curl -H "Authorization: Bearer eyJ…"`, a URL with a
    // password) has no variable name; report it by position.
    const inText = command === undefined ? undefined : findCredentialFormat(command, { shell: true });
    if (inText && !kinds.has(inText.kind)) {
      findings.push({
        rule: 'secret-history',
        historyIndex: entry.index,
        kind: inText.kind,
        message: `secret-history: the RUN command in history[${entry.index}] contains text that ${inText.reason}`,
      });
    }
  }
  return findings;
}
