import { ClientCommandError } from '../../helpers/clients/proc.js';

// The seeded images the shipped policies refuse, with the reason every client must print (DESIGN.md, "What real
// clients do"): the rule and the variable name, never the value.
export const REFUSED = [
  { tag: 'root', reason: 'denied: run-as-root: image config has no USER' },
  { tag: 'secretenv', reason: 'denied: secret-env: AWS_SECRET_ACCESS_KEY ' },
  { tag: 'argleak', reason: 'denied: secret-history: build arg NPM_TOKEN ' },
] as const;

/** The client's failure (with its stderr); a success, or any other error, fails the test. */
export async function failure(attempt: Promise<unknown>, client: string): Promise<ClientCommandError> {
  const outcome = await attempt.then(
    () => undefined,
    (err: unknown) => err,
  );
  if (!(outcome instanceof ClientCommandError)) {
    throw new Error(`expected ${client} to fail, got ${outcome === undefined ? 'success' : String(outcome)}`);
  }
  return outcome;
}
