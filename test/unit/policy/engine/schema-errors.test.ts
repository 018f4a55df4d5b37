import { describe, expect, it } from 'vitest';
import { PolicyLoadError, parsePolicyFiles } from '../../../../src/policy/loader/load.js';

function problems(text: string, file = 'policies/team.yaml'): string[] {
  try {
    parsePolicyFiles([{ file, text }]);
  } catch (err) {
    if (err instanceof PolicyLoadError) return err.message.split('\n');
    throw err;
  }
  throw new Error('expected the policy to be refused');
}

const header = 'apiVersion: pullgate/v1\nkind: Policy\nname: team\n';

// An invalid policy file names the file, the path inside the document and what is wrong.
describe('policy schema errors', () => {
  it('names the file and the path of a bad rule mode', () => {
    expect(problems(`${header}rules:\n  run-as-root:\n    mode: enforced\n`)).toEqual([
      expect.stringMatching(/^policies\/team\.yaml: rules\.run-as-root\.mode: .*"enforce".*"audit".*"off"/),
    ]);
  });

  it('refuses an unknown key instead of ignoring it', () => {
    expect(problems(`${header}scopes:\n  repositories: [a/*]\n`)).toEqual([
      'policies/team.yaml: unknown key "scopes"',
    ]);
    expect(problems(`${header}rules:\n  run-as-rooot: {mode: enforce}\n`)).toEqual([
      'policies/team.yaml: rules: unknown key "run-as-rooot"',
    ]);
  });

  it('checks CIDR blocks', () => {
    expect(problems(`${header}scope:\n  clients:\n    networks: [10.0.0.0/33, fd00::/8]\n`)).toEqual([
      expect.stringMatching(/^policies\/team\.yaml: scope\.clients\.networks\[0\]: must be an IPv4 or IPv6/),
    ]);
  });

  it('requires an exception to have a scope, a reason, an owner and a date', () => {
    const text = `${header}exceptions:\n  - rules: [run-as-root]\n    reason: ''\n    owner: sec\n    expires: soon\n`;
    const out = problems(text);
    expect(out).toContain('policies/team.yaml: exceptions[0].reason: must say why the exception exists');
    expect(out).toContain(
      'policies/team.yaml: exceptions[0].expires: must be a date, YYYY-MM-DD or an ISO time',
    );
    const noScope = `${header}exceptions:\n  - rules: [run-as-root]\n    reason: r\n    owner: o\n    expires: 2027-01-01\n`;
    expect(problems(noScope)).toEqual([
      'policies/team.yaml: exceptions[0]: an exception needs a scope: list repositories or digests',
    ]);
  });

  it('reports YAML syntax errors with the line', () => {
    expect(problems(`${header}rules: [unclosed\n`)[0]).toMatch(
      /^policies\/team\.yaml: not valid YAML: .*\(line \d+, column \d+\)$/,
    );
  });

  it('reports a missing header and an empty file', () => {
    expect(problems('name: x\n')).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^policies\/team\.yaml: apiVersion: /),
        expect.stringMatching(/^policies\/team\.yaml: kind: /),
      ]),
    );
    expect(problems('')).toEqual(['policies/team.yaml: the file is empty']);
  });

  it('reads JSON files with the same schema', () => {
    const json = JSON.stringify({
      apiVersion: 'pullgate/v1',
      kind: 'Policy',
      name: 'j',
      rules: { 'secret-env': { mode: 'x' } },
    });
    expect(problems(json, 'policies/j.json')).toEqual([
      expect.stringMatching(/^policies\/j\.json: rules\.secret-env\.mode: /),
    ]);
  });
});
