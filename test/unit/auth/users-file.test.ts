import { describe, expect, it } from 'vitest';
import { parseUsersText, UsersFileError } from '../../../src/auth/users-file.js';

const HASH = '$2b$04$abcdefghijklmnopqrstuuZ2vrTX1vSJfImNk/J0M1v0WZ7TfLlzi';

function problems(text: string): string {
  try {
    parseUsersText('/etc/pullgate/users.yaml', text);
  } catch (err) {
    if (err instanceof UsersFileError) return err.message;
    throw err;
  }
  throw new Error('expected the file to be refused');
}

describe('parseUsersText', () => {
  it('reads names, hashes and roles', () => {
    expect(
      parseUsersText(
        'u.yaml',
        `users:\n  - name: alice\n    password_bcrypt: "${HASH}"\n    role: reviewer\n`,
      ),
    ).toEqual([{ name: 'alice', password_bcrypt: HASH, role: 'reviewer' }]);
  });

  it('names the file, the place and the problem for a bad role', () => {
    expect(problems(`users:\n  - name: bob\n    password_bcrypt: "${HASH}"\n    role: owner\n`)).toMatch(
      /^\/etc\/pullgate\/users\.yaml: users\[0\]\.role: /,
    );
  });

  it('refuses a password that is not a bcrypt hash without quoting it', () => {
    const message = problems(
      'users:\n  - name: carol\n    password_bcrypt: hunter2-plain\n    role: viewer\n',
    );
    expect(message).toContain('users[0].password_bcrypt: must be a bcrypt hash');
    expect(message).not.toContain('hunter2-plain');
  });

  it('refuses unknown keys and duplicate names', () => {
    expect(
      problems(`users:\n  - name: d\n    password_bcrypt: "${HASH}"\n    role: admin\n    email: d@x\n`),
    ).toContain('unknown key "email"');
    expect(
      problems(
        `users:\n  - {name: e, password_bcrypt: "${HASH}", role: admin}\n  - {name: e, password_bcrypt: "${HASH}", role: viewer}\n`,
      ),
    ).toContain('users[1].name: duplicate user "e"');
  });

  it('refuses text that is not YAML with the line', () => {
    expect(problems('users: [\n')).toMatch(/users\.yaml: not valid YAML \(line \d+/);
  });
});
