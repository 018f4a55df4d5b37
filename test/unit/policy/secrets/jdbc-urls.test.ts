import { describe, expect, it } from 'vitest';
import { detectSecret } from '../../../../src/policy/secrets/detect.js';
import { fake, randomish } from './fake-credentials.js';

// JDBC and other URLs that carry the password (or a token) in their parameters rather than in userinfo.
const password = () => randomish('abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789', 14, 81);

const secrets: [name: string, value: string][] = [
  ['JDBC_URL', `jdbc:mysql://db:3306/app?user=app&password=${password()}`],
  ['SPRING_DATASOURCE_URL', `jdbc:postgresql://db:5432/app?user=app&password=${password()}&ssl=true`],
  ['DB_URL', `jdbc:mariadb://db/app?useSSL=true&pwd=${password()}`],
  ['DB_URL', `jdbc:sqlserver://db:1433;databaseName=app;user=sa;password=${password()};encrypt=true`],
  ['DB_URL', `jdbc:oracle:thin:scott/${password()}@//db:1521/ORCL`],
  ['DB_URL', `jdbc:mysql://app:${password()}@db:3306/app`],
  ['MONGO_URL', `mongodb://db:27017/app?authSource=admin&password=${password()}`],
  [
    'FEED_URL',
    `https://gitlab.example/api/v4/projects/1/packages?private_token=${randomish('abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789', 20, 82)}`,
  ],
  [
    'BACKUP_URL',
    `https://demo.blob.core.windows.net/c/f.tar?sv=2022-11-02&sp=r&se=2030-01-01&sig=${fake.sasSignature()}`,
  ],
];

const benign: [name: string, value: string][] = [
  ['JDBC_URL', 'jdbc:mysql://db:3306/app?user=app&useSSL=true'],
  ['JDBC_URL', `jdbc:postgresql://db/app?user=app&password=\${DB_PASSWORD}`],
  ['JDBC_URL', 'jdbc:postgresql://db/app?user=app&password='],
  ['JDBC_URL', 'jdbc:sqlserver://db:1433;databaseName=app;integratedSecurity=true'],
  ['JDBC_URL', 'jdbc:oracle:thin:@//db:1521/ORCL'],
  ['JDBC_URL', 'jdbc:mysql://db/app?user=app&password=%env(DB_PASSWORD)%'],
  ['DOWNLOAD_URL', 'https://example.com/download?version=1.2.3&token=&os=linux'],
  ['DOWNLOAD_URL', 'https://example.com/download?token=3600'],
  ['BACKUP_URL', 'https://demo.blob.core.windows.net/c/f.tar?sv=2022-11-02&sig=XXXXXXXXXXXXXXXXXXXX'],
];

describe('URLs with a password or token in their parameters', () => {
  it.each(secrets)('%s=%j is a secret', (name, value) => {
    expect(detectSecret(name, value)?.kind).toMatch(/^(?:url-credentials|azure-shared-access-signature)$/);
  });

  it.each(benign)('%s=%j is not a secret', (name, value) => {
    expect(detectSecret(name, value)).toBeUndefined();
  });

  it('names JDBC URLs as such', () => {
    expect(detectSecret('JDBC_URL', `jdbc:mysql://db/app?password=${password()}`)?.reason).toBe(
      'looks like a JDBC URL with a password',
    );
  });
});
