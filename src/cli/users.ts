import bcrypt from 'bcryptjs';
import { processIo } from './io.js';

const usage = `usage: pullgate users hash [--cost N] < password

Prints the bcrypt hash of the password read from standard input (one line), for password_bcrypt in
PULLGATE_USERS_FILE. The password is never an argument: arguments show in ps and shell history.
`;

/** `pullgate users hash`: exit 0 ok, 2 usage. */
export async function runUsers(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub !== 'hash') {
    process.stderr.write(usage);
    return 2;
  }
  let cost = 12;
  if (rest[0] === '--cost' && rest[1] !== undefined && /^\d{1,2}$/.test(rest[1]) && rest.length === 2) {
    cost = Number(rest[1]);
  } else if (rest.length > 0) {
    process.stderr.write(usage);
    return 2;
  }
  if (cost < 10 || cost > 15) {
    process.stderr.write('pullgate: --cost must be 10-15\n');
    return 2;
  }
  const password = (await processIo.readStdin()).replace(/\r?\n$/, '');
  if (password === '') {
    process.stderr.write('pullgate: empty password on standard input\n');
    return 2;
  }
  process.stdout.write(`${bcrypt.hashSync(password, cost)}\n`);
  return 0;
}
