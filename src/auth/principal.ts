import type { AuthMethod, Role } from '../store/schema.js';

/** Who is asking, as proved by a password, a personal token or the break-glass admin token. */
export interface Principal {
  name: string;
  role: Role;
  via: Exclude<AuthMethod, 'typed-name'>;
}

/** The name a review made with PULLGATE_ADMIN_TOKEN is recorded under: nobody in particular, on purpose. */
export const BREAK_GLASS_NAME = 'break-glass';

const rank: Record<Role, number> = { viewer: 0, reviewer: 1, admin: 2 };

/** viewer reads; reviewer also approves, rejects and reopens; admin also manages tokens. */
export function hasRole(principal: Principal, needed: Role): boolean {
  return rank[principal.role] >= rank[needed];
}
