import type { Kysely } from 'kysely';
import type { Database } from './schema.js';

export interface ConfigAllowanceKey {
  upstream: string;
  repository: string;
  digest: string;
  policyVersion: string;
  client: string;
}

/** The config_allowances table: every query about it is here. */
export class ConfigAllowanceStore {
  constructor(private readonly db: Kysely<Database>) {}

  async record(key: ConfigAllowanceKey, at: Date): Promise<void> {
    await this.db
      .insertInto('config_allowances')
      .values({
        upstream: key.upstream,
        repository: key.repository,
        digest: key.digest,
        policy_version: key.policyVersion,
        client: key.client,
        allowed_at: at.toISOString(),
      })
      .onConflict((oc) =>
        oc.columns(['upstream', 'repository', 'digest', 'policy_version', 'client']).doNothing(),
      )
      .execute();
  }

  async has(key: ConfigAllowanceKey): Promise<boolean> {
    const row = await this.db
      .selectFrom('config_allowances')
      .select('digest')
      .where('upstream', '=', key.upstream)
      .where('repository', '=', key.repository)
      .where('digest', '=', key.digest)
      .where('policy_version', '=', key.policyVersion)
      .where('client', '=', key.client)
      .executeTakeFirst();
    return row !== undefined;
  }
}
