import { describe, expect, it } from 'vitest';
import { detectSecret, findCredentialFormat } from '../../../../src/policy/secrets/detect.js';
import { shellWords } from '../../../../src/policy/secrets/option-credentials.js';
import { randomish } from './fake-credentials.js';

// Credentials passed as options inside option-string variables (JAVA_OPTS, MAVEN_OPTS, CMD_ARGS …).
const password = () => randomish('abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789', 14, 86);

const secrets: [name: string, value: string][] = [
  ['JAVA_OPTS', `-Xmx1g -Djavax.net.ssl.trustStorePassword=${password()} -Dfile.encoding=UTF-8`],
  ['JAVA_OPTS', '-Djavax.net.ssl.keyStorePassword=changeit'],
  ['MAVEN_OPTS', `-Dgpg.passphrase=${password()}`],
  ['JAVA_TOOL_OPTIONS', `"-Dspring.datasource.password=${password()}"`],
  ['SONAR_SCANNER_OPTS', `-Dsonar.token=${randomish('0123456789abcdef', 40, 87)}`],
  ['CMD_ARGS', `--password=${password()}`],
  ['CMD_ARGS', `--user admin --password ${password()}`],
  ['EXTRA_ARGS', `--listen 0.0.0.0 --api-key=${password()}`],
  ['MYSQL_OPTS', `-uroot -p${password()}`],
  ['JVM_ARGS', `-Ddb.password='${password()} x'`],
];

const benign: [name: string, value: string][] = [
  ['JAVA_OPTS', '-Xms512m -Xmx2g -XX:+UseG1GC -Dfile.encoding=UTF-8'],
  ['JAVA_OPTS', '-Djavax.net.ssl.trustStore=/etc/ssl/certs/java/cacerts -Djavax.net.ssl.trustStoreType=JKS'],
  ['JAVA_OPTS', '-Dcom.sun.management.jmxremote.password.file=/run/secrets/jmx'],
  ['JAVA_OPTS', `-Ddb.password=\${DB_PASSWORD}`],
  ['JAVA_OPTS', '-Ddb.password=%env(DB_PASSWORD)%'],
  ['MAVEN_OPTS', '-Dgpg.passphrase=...'],
  ['CMD_ARGS', '--password-stdin --username ci registry.example'],
  ['CMD_ARGS', '--no-password --port 8080'],
  ['CMD_ARGS', '--token-ttl=3600 --password-file=/run/secrets/pw'],
  ['CMD_ARGS', '--password=PASSWORD'],
  ['REDIS_ARGS', '-p 6379 --appendonly yes'],
  ['MYSQL_OPTS', '-uroot -p'],
  ['CFLAGS', '-O2 -pipe -pthread'],
  ['NODE_OPTIONS', '--max-old-space-size=4096 --enable-source-maps'],
];

describe('credentials inside option strings', () => {
  it.each(secrets)('%s=%j is a secret', (name, value) => {
    expect(detectSecret(name, value)?.kind).toBe('option-credentials');
  });

  it.each(benign)('%s=%j is not a secret', (name, value) => {
    expect(detectSecret(name, value)).toBeUndefined();
  });

  it('finds -D and --name= options anywhere, but --name value pairs only in option variables', () => {
    expect(findCredentialFormat(`mvn deploy -Dgpg.passphrase=${password()}`)?.kind).toBe(
      'option-credentials',
    );
    expect(detectSecret('SETTINGS', `--password ${password()}`)).toBeUndefined();
    expect(detectSecret('SERVER_ARGS', `--password ${password()}`)?.kind).toBe('option-credentials');
  });

  it('skips values the shell expands at run time', () => {
    const command = 'mvn deploy -Dgpg.passphrase="$GPG_PASSPHRASE" --settings=/root/.m2/s.xml';
    expect(findCredentialFormat(command, { shell: true })).toBeUndefined();
  });

  it('splits words as a shell does', () => {
    expect(shellWords(`-a "b c" 'd e' f\\ g`)).toEqual(['-a', 'b c', 'd e', 'f g']);
  });
});
