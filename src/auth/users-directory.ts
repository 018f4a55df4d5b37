import { type FSWatcher, watch } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import bcrypt from 'bcryptjs';
import type { Principal } from './principal.js';
import { parseUsersText, type User, UsersFileError } from './users-file.js';

export interface UsersLogger {
  info(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface UsersDirectoryOptions {
  /** PULLGATE_USERS_FILE; undefined: nobody can log in to the console. */
  file: string | undefined;
  logger?: UsersLogger;
  /** Reload on SIGHUP and when the file changes (like the policies). */
  watch?: boolean;
}

export type UsersReload = { ok: true; users: number } | { ok: false; message: string };

// Compared against when the name is unknown, so an unknown name costs the same bcrypt work as a wrong password
// and response times do not tell which names exist: made once per cost, the cost of the users' own hashes.
const decoys = new Map<number, string>();
function decoyHash(cost: number): string {
  let hash = decoys.get(cost);
  if (hash === undefined) {
    hash = bcrypt.hashSync('pullgate-decoy-password', cost);
    decoys.set(cost, hash);
  }
  return hash;
}

/**
 * The console's users, from PULLGATE_USERS_FILE. A reload that fails validation keeps the users in force and
 * logs why, as a policy reload does; start-up with an invalid file fails.
 */
export class UsersDirectory {
  private users = new Map<string, User>();
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly onSighup = () => void this.reload();

  private constructor(private readonly options: UsersDirectoryOptions) {}

  static async create(options: UsersDirectoryOptions): Promise<UsersDirectory> {
    const directory = new UsersDirectory(options);
    if (options.file !== undefined) {
      directory.users = await readUsers(options.file);
      if (options.watch === true) directory.startWatching();
    }
    return directory;
  }

  get configured(): boolean {
    return this.options.file !== undefined;
  }

  get size(): number {
    return this.users.size;
  }

  /** The user as the file says now: a role change or a removal takes effect on the next request. */
  get(name: string): User | undefined {
    return this.users.get(name);
  }

  /** Checks a name and password; the principal on success. */
  async verify(name: string, password: string): Promise<Principal | undefined> {
    const user = this.users.get(name);
    const first = this.users.values().next().value;
    const cost = first === undefined ? 10 : bcrypt.getRounds(first.password_bcrypt);
    const ok = await bcrypt.compare(password, user?.password_bcrypt ?? decoyHash(cost));
    if (!ok || user === undefined) return undefined;
    return { name: user.name, role: user.role, via: 'password' };
  }

  async reload(): Promise<UsersReload> {
    const file = this.options.file;
    if (file === undefined) return { ok: true, users: 0 };
    try {
      this.users = await readUsers(file);
      this.options.logger?.info({ file, users: this.users.size }, 'users reloaded');
      return { ok: true, users: this.users.size };
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      this.options.logger?.error(
        { file, error: message },
        'failed to reload users; keeping the users in force',
      );
      return { ok: false, message };
    }
  }

  private startWatching(): void {
    const file = this.options.file;
    if (file === undefined) return;
    process.on('SIGHUP', this.onSighup);
    try {
      // The directory is watched, not the file: editors and Kubernetes secret mounts replace the file by rename.
      this.watcher = watch(dirname(file), { persistent: false }, (_event, name) => {
        if (name !== null && name !== basename(file) && !name.startsWith('..')) return;
        if (this.timer !== undefined) clearTimeout(this.timer);
        this.timer = setTimeout(() => void this.reload(), 200);
        this.timer.unref();
      });
      this.watcher.on('error', () => undefined);
    } catch (err) {
      this.options.logger?.error({ file, err }, 'failed to watch the users file; reload with SIGHUP');
    }
  }

  close(): void {
    process.off('SIGHUP', this.onSighup);
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.watcher?.close();
  }
}

async function readUsers(file: string): Promise<Map<string, User>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new UsersFileError([{ file, path: '', message: `cannot read (${code})` }]);
  }
  return new Map(parseUsersText(file, text).map((u) => [u.name, u]));
}
