import { describe, expect, it } from 'vitest';
import { imageFacts } from '../../../../src/policy/facts.js';
import { secretEnv } from '../../../../src/policy/rules/secret-env.js';
import { fake } from '../secrets/fake-credentials.js';

const withEnv = (...env: string[]) => imageFacts({ config: { User: '1000', Env: env } });

// Env of official images (python, php, postgres, mysql, rabbitmq, nextcloud, docker) passes untouched.
const officialImageEnv = [
  'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
  'GPG_KEY=A035C8C19219BA821ECEA86B64E628F8D684696D',
  'PYTHON_SHA256=272179ddd9a2e41a0fc8e42e33dfbdca0b3711aa5abf372d3f2d51543d09b625',
  'GPG_KEYS=39B641343D8C104B2B146DC3F9C39DC0B9698544 E60913E4DF209907D8E30D96659A97C9CF2A795A',
  'RABBITMQ_PGP_KEY_ID=0x0A9AF2115F4687BD29803A206B73A36E6026DFCA',
  'TOMCAT_SHA512=992a8e88fc9c0338445f018a1e4a2757c9e71708dba795e2864c9b1613f2b3b9b19c048e787682deae6d6bff9971defc746e',
  'DOCKER_TLS_CERTDIR=/certs',
  'SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt',
  'MYSQL_ALLOW_EMPTY_PASSWORD=yes',
  'MYSQL_RANDOM_ROOT_PASSWORD=1',
  'POSTGRES_HOST_AUTH_METHOD=trust',
  'NEXTCLOUD_ADMIN_PASSWORD_FILE=/run/secrets/nextcloud_admin_password',
  `MARIADB_PASSWORD=\${DB_PASSWORD}`,
  'AWS_SECRET_ACCESS_KEY=',
  'PASS',
];

describe('secret-env', () => {
  it('flags nothing in official-image Env', () => {
    expect(secretEnv(withEnv(...officialImageEnv))).toEqual([]);
  });

  it.each([
    ['AWS_SECRET_ACCESS_KEY', fake.awsSecretAccessKey(), 'aws-secret-access-key'],
    ['GITHUB_TOKEN', fake.githubToken(), 'github-token'],
    ['DATABASE_URL', fake.postgresUrl(), 'url-credentials'],
    ['POSTGRES_PASSWORD', 'sonar', 'password-under-secret-name'],
    ['JWT_PRIVATE_KEY', fake.privateKey(), 'private-key'],
    ['JAVA_OPTS', '-Xmx1g -Djavax.net.ssl.keyStorePassword=Zq8mPl2xWv', 'option-credentials'],
    ['DISCORD_WEBHOOK_URL', fake.discordWebhook(), 'webhook-url'],
    ['STORAGE', `AccountName=demo;AccountKey=${fake.azureAccountKey()}`, 'connection-string-credentials'],
  ])('flags %s with its name as key', (name, value, kind) => {
    const findings = secretEnv(withEnv('PATH=/usr/bin', `${name}=${value}`, 'LANG=C.UTF-8'));
    expect(findings).toEqual([
      {
        rule: 'secret-env',
        key: name,
        kind,
        message: expect.stringMatching(new RegExp(`^secret-env: ${name} `)),
      },
    ]);
  });

  it('flags nothing in option strings without credentials', () => {
    const env = [
      'JAVA_OPTS=-XX:+UseContainerSupport -Djava.security.egd=file:/dev/./urandom',
      'CATALINA_OPTS=-Djavax.net.ssl.trustStore=/opt/java/openjdk/lib/security/cacerts',
      'ES_JAVA_OPTS=-Xms512m -Xmx512m',
    ];
    expect(secretEnv(withEnv(...env))).toEqual([]);
  });

  it('never puts the value of an embedded credential in the message', () => {
    const secret = 'Zq8mPl2xWv';
    const [finding] = secretEnv(withEnv(`CMD_ARGS=--user admin --password ${secret}`));
    expect(finding?.message).toBe('secret-env: CMD_ARGS holds a command-line option with a password');
    expect(JSON.stringify(finding)).not.toContain(secret);
  });

  it('writes the message the contract shows', () => {
    expect(secretEnv(withEnv(`AWS_SECRET_ACCESS_KEY=${fake.awsSecretAccessKey()}`))[0]?.message).toBe(
      'secret-env: AWS_SECRET_ACCESS_KEY looks like an AWS secret access key',
    );
  });

  it('names a malformed entry holding a credential by position, not by its text', () => {
    const token = fake.githubToken();
    expect(secretEnv(withEnv('PATH=/usr/bin', token))).toEqual([
      { rule: 'secret-env', kind: 'github-token', message: 'secret-env: Env[1] looks like a GitHub token' },
    ]);
  });
});
