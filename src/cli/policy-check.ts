import { type CliIo, defaultPolicyDir, processIo } from './io.js';

const usage = `usage: pullgate policy check [--allow-empty] [DIR]

Validates the policy files in DIR (default: PULLGATE_POLICY_DIR, else the shipped policies/) without starting.
A directory with no policy file is invalid, as it is for the server, unless --allow-empty is given
(or PULLGATE_POLICY_ALLOW_EMPTY=true). Exit 0 valid, 1 invalid (each problem names the file, the place and the problem), 2 bad usage.
`;

/** `pullgate policy check [DIR]`: validates the policy files without starting. Exit 0 valid, 1 invalid, 2 usage. */
export async function runPolicyCheck(argv: string[], io: CliIo = processIo): Promise<number> {
  // Accepts `check [DIR]` (as typed after `policy`) or just `[DIR]` (as src/cli.ts passes it).
  const all = argv[0] === 'check' ? argv.slice(1) : argv;
  const allowEmpty = all.includes('--allow-empty') || io.env.PULLGATE_POLICY_ALLOW_EMPTY === 'true';
  const args = all.filter((a) => a !== '--allow-empty');
  if (args.includes('-h') || args.includes('--help')) {
    io.stdout(usage);
    return 0;
  }
  if (args.length > 1 || args.some((a) => a.startsWith('-'))) {
    io.stderr(usage);
    return 2;
  }
  const dir = args[0] ?? defaultPolicyDir(io.env);
  const { loadPolicies, PolicyLoadError, formatProblem } = await import('../policy/loader/load.js');
  try {
    const set = await loadPolicies(dir, { allowEmpty });
    io.stdout(
      `ok: ${set.policies.length} ${set.policies.length === 1 ? 'policy' : 'policies'}, version ${set.version}\n`,
    );
    for (const p of set.policies) io.stdout(`  ${p.name} (priority ${p.priority}) from ${p.source}\n`);
    return 0;
  } catch (err) {
    if (err instanceof PolicyLoadError) {
      for (const p of err.problems) io.stderr(`${formatProblem(p)}\n`);
      io.stderr(`invalid: ${err.problems.length} ${err.problems.length === 1 ? 'problem' : 'problems'}\n`);
      return 1;
    }
    throw err;
  }
}
