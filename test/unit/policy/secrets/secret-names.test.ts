import { describe, expect, it } from 'vitest';
import { classifySecretName, nameWords } from '../../../../src/policy/secrets/secret-names.js';

const cases: [name: string, cls: string][] = [
  ['POSTGRES_PASSWORD', 'password'],
  ['PGPASSWORD', 'password'],
  ['dbPassword', 'password'],
  ['MYSQL_PASS', 'password'],
  ['AWS_SECRET_ACCESS_KEY', 'password'],
  ['NEO4J_AUTH', 'password'],
  ['GITHUB_TOKEN', 'token'],
  ['OPENAI_API_KEY', 'token'],
  ['DATADOG_APIKEY', 'token'],
  ['SSH_PRIVATE_KEY', 'token'],
  ['RABBITMQ_ERLANG_COOKIE', 'token'],
  ['GPG_KEY', 'key'],
  ['TLS_KEY', 'key'],
  ['NGINX_GPGKEY', 'none'],
  ['POSTGRES_PASSWORD_FILE', 'none'],
  ['POSTGRES_HOST_AUTH_METHOD', 'none'],
  ['RABBITMQ_PGP_KEY_ID', 'none'],
  ['AWS_ACCESS_KEY_ID', 'none'],
  ['PYTHON_SHA256', 'none'],
  ['SSH_AUTH_SOCK', 'none'],
  ['TOKEN_TTL', 'none'],
  ['PASSENGER_APP_ENV', 'none'],
  ['BYPASS_PROXY', 'none'],
  ['PWD', 'none'],
  ['SESSION_COOKIE_SAMESITE', 'none'],
  ['DATABASE_URL', 'none'],
];

describe('classifySecretName', () => {
  it.each(cases)('%s is a %s name', (name, cls) => {
    expect(classifySecretName(name).class).toBe(cls);
  });

  it('marks GPG/PGP names so their fingerprints are allowed', () => {
    expect(classifySecretName('GPG_KEYS').gpg).toBe(true);
    expect(classifySecretName('JULIA_GPG').gpg).toBe(true);
    expect(classifySecretName('API_KEY').gpg).toBe(false);
  });

  it('splits names on separators and camelCase humps', () => {
    expect(nameWords('dbPassword')).toEqual(['DB', 'PASSWORD']);
    expect(nameWords('NPM_CONFIG_//registry.npmjs.org/:_authToken')).toEqual([
      'NPM',
      'CONFIG',
      'REGISTRY',
      'NPMJS',
      'ORG',
      'AUTH',
      'TOKEN',
    ]);
  });
});
