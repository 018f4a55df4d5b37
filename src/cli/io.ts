import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

/** Where a command writes and reads: the process by default, buffers in tests. */
export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  readStdin: () => Promise<string>;
  env: NodeJS.ProcessEnv;
}

export const processIo: CliIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  readStdin: async () => {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  },
  env: process.env,
};

/**
 * The policies shipped with the package (`policies/` next to package.json), found from this file whether it
 * runs from src/ (tsx) or dist/ (built), so `npx pullgate evaluate` works from any directory.
 */
export function shippedPolicyDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        const name = (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: unknown }).name;
        if (name === 'pullgate') return join(dir, 'policies');
      } catch {
        // Not our package.json; keep walking up.
      }
    }
    dir = dirname(dir);
  }
  return resolve('policies');
}

export function defaultPolicyDir(env: NodeJS.ProcessEnv): string {
  const fromEnv = env.PULLGATE_POLICY_DIR;
  return fromEnv !== undefined && fromEnv !== '' ? resolve(fromEnv) : shippedPolicyDir();
}

/**
 * The arguments of the offline store commands (`--data-dir DIR`, `--help`): the data directory they work on
 * (default PULLGATE_DATA_DIR, then ./data), or the exit code to return at once (0 after --help, 2 on bad usage).
 */
export function dataDirArgs(
  argv: string[],
  command: string,
  usage: string,
): { dataDir: string } | { exit: number } {
  let values: { 'data-dir'?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { 'data-dir': { type: 'string' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
    }));
  } catch (err) {
    process.stderr.write(`pullgate ${command}: ${(err as Error).message}\n${usage}`);
    return { exit: 2 };
  }
  if (values.help) {
    process.stdout.write(usage);
    return { exit: 0 };
  }
  return { dataDir: resolve(values['data-dir'] ?? process.env.PULLGATE_DATA_DIR ?? './data') };
}
