import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from './schema.js';
import { hashSecret } from './token-store.js';

export interface SessionLimits {
  /** A session unused this long is over. */
  idleMs: number;
  /** A session this old is over, however busy. */
  absoluteMs: number;
}

/**
 * Console sessions, in the store so every replica honours a logout at once. The cookie holds 32 random bytes;
 * the table holds their sha256.
 */
export class SessionStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly limits: SessionLimits,
  ) {}

  async create(userName: string, now: Date): Promise<string> {
    const id = randomBytes(32).toString('base64url');
    const at = now.toISOString();
    await this.db
      .insertInto('sessions')
      .values({ id_hash: hashSecret(id), user_name: userName, created_at: at, last_seen_at: at })
      .execute();
    return id;
  }

  /** The session's user when it is live at `now` (and marks it used); an expired session is deleted. */
  async touch(id: string, now: Date): Promise<string | undefined> {
    const idHash = hashSecret(id);
    const row = await this.db
      .selectFrom('sessions')
      .selectAll()
      .where('id_hash', '=', idHash)
      .executeTakeFirst();
    if (row === undefined) return undefined;
    const t = now.getTime();
    if (
      t - Date.parse(row.last_seen_at) > this.limits.idleMs ||
      t - Date.parse(row.created_at) > this.limits.absoluteMs
    ) {
      await this.db.deleteFrom('sessions').where('id_hash', '=', idHash).execute();
      return undefined;
    }
    await this.db
      .updateTable('sessions')
      .set({ last_seen_at: now.toISOString() })
      .where('id_hash', '=', idHash)
      .execute();
    return row.user_name;
  }

  async destroy(id: string): Promise<void> {
    await this.db.deleteFrom('sessions').where('id_hash', '=', hashSecret(id)).execute();
  }

  /** Deletes sessions past either limit (called now and then; touch() refuses them anyway). */
  async sweep(now: Date): Promise<void> {
    const idle = new Date(now.getTime() - this.limits.idleMs).toISOString();
    const absolute = new Date(now.getTime() - this.limits.absoluteMs).toISOString();
    await this.db
      .deleteFrom('sessions')
      .where((eb) => eb.or([eb('last_seen_at', '<', idle), eb('created_at', '<', absolute)]))
      .execute();
  }
}
