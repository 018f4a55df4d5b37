import { describe, expect, it } from 'vitest';
import { detectSecret } from '../../../../src/policy/secrets/detect.js';
import { isSecretStoreReference } from '../../../../src/policy/secrets/placeholders.js';

// References to a secret resolved at run time are the recommended practice, not a leak.
const references: [name: string, value: string][] = [
  ['APP_SECRET', '%env(APP_SECRET)%'],
  ['DATABASE_PASSWORD', '%env(resolve:DB_PASSWORD)%'],
  ['MYSQL_ROOT_PASSWORD', `\${MYSQL_ROOT_PASSWORD}`],
  ['MYSQL_ROOT_PASSWORD', `\${MYSQL_ROOT_PASSWORD:-}`],
  ['DB_PASSWORD', '$(cat /run/secrets/db_password)'],
  ['DB_PASSWORD', '"$(cat /run/secrets/db_password)"'],
  ['DB_PASSWORD', 'MYSQL_ROOT_PASSWORD'],
  ['API_TOKEN', 'GITHUB_TOKEN'],
  ['DB_PASSWORD', 'vault:secret/data/db#password'],
  ['DB_PASSWORD', 'ref+vault://secret/db#/password'],
  ['DB_PASSWORD', 'secretsmanager:prod/db:password'],
  ['DB_PASSWORD', 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db-AbCdEf'],
  ['DB_PASSWORD', 'arn:aws:ssm:eu-west-1:123456789012:parameter/prod/db/password'],
  ['DB_PASSWORD', 'sm://my-project/db-password'],
  ['DB_PASSWORD', 'projects/my-project/secrets/db-password/versions/latest'],
  ['DB_PASSWORD', '@Microsoft.KeyVault(SecretUri=https://kv.vault.azure.net/secrets/db/)'],
  ['DB_PASSWORD', 'op://Production/db/password'],
  ['DATABASE_URL', 'postgresql://app:%env(DB_PASSWORD)%@db:5432/app'],
];

const literals: [name: string, value: string][] = [
  ['DB_PASSWORD', 'vaultpassword'],
  ['DB_PASSWORD', 'Mysql_Root_Password'],
  ['DB_PASSWORD', 'env(DB_PASSWORD)'],
  ['DB_PASSWORD', 'ADMIN'],
];

describe('references to secrets', () => {
  it.each(references)('%s=%j is a reference, not a secret', (name, value) => {
    expect(detectSecret(name, value)).toBeUndefined();
  });

  it.each(literals)('%s=%j is a literal, so a secret', (name, value) => {
    expect(detectSecret(name, value)?.kind).toBe('password-under-secret-name');
  });

  it('does not take a scheme-less word with a colon for a secret store', () => {
    expect(isSecretStoreReference('vault:')).toBe(false);
    expect(isSecretStoreReference('admin:s3cret')).toBe(false);
  });
});
