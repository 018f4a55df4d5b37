#!/usr/bin/env node

// Commands are imported lazily: `pullgate evaluate` runs once per image in CI gates and corpus scoring, and
// must not pay for Fastify, undici and the database drivers it never uses.
const usage = `usage: pullgate <command> [options]

commands:
  serve                         run the proxy (configuration from PULLGATE_* environment variables)
  evaluate --config FILE|-      judge one image config JSON (or IMAGE) and print the decision as JSON
  policy check [DIR]            validate policy files without starting
  alerts list|show|approve|reject|reopen   review tag-mutation alerts (talks to the admin API)
  tokens create|list|revoke     personal API tokens for the CLI and automation (talks to the admin API)
  users hash                    bcrypt a password (stdin) for PULLGATE_USERS_FILE
  tags history REPO:TAG         what a tag has meant over time (talks to the admin API)
  decisions [--json] [filters]  query the decision log (talks to the admin API)
  log verify [--data-dir DIR] [--public-key FILE] [--checkpoint FILE]
                                check the decision log and its signed checkpoints offline
  log reindex [--data-dir DIR]  rebuild this replica's part of the decision index from its log files
  store migrate [--data-dir DIR]  bring the store's schema up to date (before a rollout) and exit

Run \`pullgate <command> --help\` for a command's options.
`;

function isHelp(arg: string | undefined): boolean {
  return arg === '--help' || arg === '-h' || arg === 'help';
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'serve': {
      // Process-wide settings for blob streaming's memory, so they belong to the process, not to a module (issue 16).
      const { collectWhileStreaming } = await import('./cli/young-gc.js');
      collectWhileStreaming();
      const { keepWasmBaseline } = await import('./cli/wasm-baseline.js');
      keepWasmBaseline();
      const { serve } = await import('./server.js');
      await serve();
      return -1;
    }
    case 'evaluate': {
      const { runEvaluate } = await import('./cli/evaluate.js');
      return runEvaluate(rest);
    }
    case 'policy': {
      // `policy --help` and `log --help` answer the subcommand's help rather than "unknown command".
      if (isHelp(rest[0])) rest.splice(0, 1, 'check', '--help');
      if (rest[0] !== 'check') break;
      const { runPolicyCheck } = await import('./cli/policy-check.js');
      return runPolicyCheck(rest.slice(1));
    }
    case 'alerts': {
      const { runAlerts } = await import('./cli/alerts.js');
      return runAlerts(rest);
    }
    case 'tags': {
      const { runTags } = await import('./cli/alerts.js');
      return runTags(rest);
    }
    case 'tokens': {
      const { runTokens } = await import('./cli/tokens.js');
      return runTokens(rest);
    }
    case 'users': {
      const { runUsers } = await import('./cli/users.js');
      return runUsers(rest);
    }
    case 'decisions': {
      const { runDecisions } = await import('./cli/decisions.js');
      return runDecisions(rest);
    }
    case 'store': {
      if (rest[0] !== 'migrate') break;
      const { runStoreMigrate } = await import('./cli/store-migrate.js');
      return runStoreMigrate(rest.slice(1));
    }
    case 'log': {
      if (rest[0] === 'reindex') {
        const { runLogReindex } = await import('./cli/log-reindex.js');
        return runLogReindex(rest.slice(1));
      }
      if (isHelp(rest[0])) rest.splice(0, 1, 'verify', '--help');
      if (rest[0] !== 'verify') break;
      const { runLogVerify } = await import('./cli/log-verify.js');
      return runLogVerify(rest.slice(1));
    }
    case '-h':
    case '--help':
    case 'help':
      process.stdout.write(usage);
      return 0;
    default:
      break;
  }
  process.stderr.write(
    command === undefined ? usage : `pullgate: unknown command ${argv.join(' ')}\n${usage}`,
  );
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`pullgate: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
