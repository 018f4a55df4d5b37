import { parseDocument } from 'yaml';
import { z } from 'zod';
import { formatProblem, type PolicyProblem, zodProblems } from '../policy/loader/load.js';

// bcrypt's modular-crypt form: `$2a$`, `$2b$` or `$2y$` (htpasswd -B writes `$2y$`), cost, 53 characters.
const bcryptHash = z
  .string()
  .regex(
    /^\$2[aby]\$\d{2}\$[./A-Za-z0-9]{53}$/,
    'must be a bcrypt hash (htpasswd -nbB, or pullgate users hash)',
  );

export const userSchema = z.strictObject({
  name: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$/, 'must be 1-100 letters, digits, ".", "_", "@" or "-"'),
  password_bcrypt: bcryptHash,
  role: z.enum(['viewer', 'reviewer', 'admin']),
});
export const usersFileSchema = z.strictObject({ users: z.array(userSchema) });
export type User = z.infer<typeof userSchema>;

/** A users file that cannot be used; the message lists every problem as `file: path: what is wrong`. */
export class UsersFileError extends Error {
  constructor(readonly problems: PolicyProblem[]) {
    super(problems.map(formatProblem).join('\n'));
    this.name = 'UsersFileError';
  }
}

/** Pure: the users of one PULLGATE_USERS_FILE text; throws UsersFileError naming file, place and problem. */
export function parseUsersText(file: string, text: string): User[] {
  const doc = parseDocument(text, { uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new UsersFileError(
      doc.errors.map((e) => ({
        file,
        path: '',
        message: `not valid YAML${e.linePos?.[0] ? ` (line ${e.linePos[0].line}, column ${e.linePos[0].col})` : ''}`,
      })),
    );
  }
  const result = usersFileSchema.safeParse(doc.toJS());
  if (!result.success) throw new UsersFileError(zodProblems(file, result.error));
  const problems: PolicyProblem[] = [];
  const seen = new Set<string>();
  for (const [i, u] of result.data.users.entries()) {
    if (seen.has(u.name))
      problems.push({ file, path: `users[${i}].name`, message: `duplicate user "${u.name}"` });
    seen.add(u.name);
  }
  if (problems.length > 0) throw new UsersFileError(problems);
  return result.data.users;
}
