// Stopgap for scoring the image rules against the shared corpus until `pullgate evaluate` exists:
//   node --import tsx scripts/corpus-evaluate.ts < config.json
// Prints {"decision":"allow"|"deny","findings":[...]}; every rule enforced, non-strict root.
import { text } from 'node:stream/consumers';
import { imageFacts } from '../src/policy/facts.js';
import { evaluateImageRules } from '../src/policy/rules/index.js';

let input: unknown;
try {
  input = JSON.parse(await text(process.stdin));
} catch {
  console.error('corpus-evaluate: stdin is not JSON');
  process.exit(2);
}
const parsed = (() => {
  try {
    return imageFacts(input);
  } catch {
    return undefined;
  }
})();
if (parsed === undefined) {
  console.error('corpus-evaluate: stdin is not an image config');
  process.exit(2);
}
const findings = evaluateImageRules(parsed);
console.log(JSON.stringify({ decision: findings.length > 0 ? 'deny' : 'allow', findings }));
process.exit(findings.length > 0 ? 1 : 0);
