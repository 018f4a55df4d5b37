import { createHash, randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { ApiTokenRow, Database, Role } from './schema.js';

/** Personal API tokens start with this, so a leaked one is recognisable (and greppable by secret scanners). */
export const TOKEN_PREFIX = 'pgt_';

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** A token as listed: never its value or hash. */
export interface TokenView {
  id: number;
  name: string;
  role: Role;
  createdBy: string;
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
  lastUsedAt: string | null;
}

function view(row: ApiTokenRow): TokenView {
  return {
    id: row.id,
    name: row.name,
    role: row.role,
    createdBy: row.created_by,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    revokedAt: row.revoked_at,
    lastUsedAt: row.last_used_at,
  };
}

/**
 * Personal API tokens. Only the sha256 of a token is stored: 32 random bytes need no slow hash, and a database
 * dump then holds nothing that authenticates.
 */
export class TokenStore {
  constructor(private readonly db: Kysely<Database>) {}

  async create(input: {
    name: string;
    role: Role;
    createdBy: string;
    at: Date;
    expiresAt: Date | undefined;
  }): Promise<{ token: string; view: TokenView }> {
    const token = `${TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
    const row = await this.db
      .insertInto('api_tokens')
      .values({
        name: input.name,
        role: input.role,
        token_hash: hashSecret(token),
        created_by: input.createdBy,
        created_at: input.at.toISOString(),
        expires_at: input.expiresAt?.toISOString() ?? null,
        revoked_at: null,
        last_used_at: null,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return { token, view: view(row) };
  }

  /** The token's row when it is known, not revoked and not expired at `now`. */
  async verify(token: string, now: Date): Promise<TokenView | undefined> {
    if (!token.startsWith(TOKEN_PREFIX)) return undefined;
    const row = await this.db
      .selectFrom('api_tokens')
      .selectAll()
      .where('token_hash', '=', hashSecret(token))
      .executeTakeFirst();
    if (row === undefined || row.revoked_at !== null) return undefined;
    if (row.expires_at !== null && row.expires_at <= now.toISOString()) return undefined;
    await this.db
      .updateTable('api_tokens')
      .set({ last_used_at: now.toISOString() })
      .where('id', '=', row.id)
      .execute();
    return view(row);
  }

  async list(): Promise<TokenView[]> {
    return (await this.db.selectFrom('api_tokens').selectAll().orderBy('id').execute()).map(view);
  }

  /** Revokes a token; false when there is no such token or it was already revoked. */
  async revoke(id: number, at: Date): Promise<boolean> {
    const res = await this.db
      .updateTable('api_tokens')
      .set({ revoked_at: at.toISOString() })
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return res.numUpdatedRows > 0n;
  }
}
