import { describe, expect, it } from 'vitest';
import { imageFacts } from '../../../../src/policy/facts.js';
import { secretHistory } from '../../../../src/policy/rules/secret-history.js';
import { fake } from '../secrets/fake-credentials.js';

const withHistory = (...createdBy: string[]) =>
  imageFacts({ config: { User: '1000' }, history: createdBy.map((c) => ({ created_by: c })) });

// [created_by, expected finding keys (undefined = a finding with no variable name)]
const leaks: [createdBy: string, keys: (string | undefined)[]][] = [
  [`RUN |1 NPM_TOKEN=${fake.npmToken()} /bin/sh -c npm ci # buildkit`, ['NPM_TOKEN']],
  [`|2 GOOGLE_API_KEY=${fake.gcpApiKey()} VERSION=1.2.3 /bin/sh -c bundle install`, ['GOOGLE_API_KEY']],
  [`RUN |2 NODE_ENV=production API_TOKEN=${fake.jwt()} /bin/sh -c npm ci # buildkit`, ['API_TOKEN']],
  [
    `RUN |8 PNPM_VERSION=v8.15.5 GITHUB_REGISTRY_TOKEN=ghp_notquitetherightshape /bin/sh -c unwise-command '\${GITHUB_REGISTRY_TOKEN}' `,
    ['GITHUB_REGISTRY_TOKEN'],
  ],
  ['|1 http_proxy=http://accout:passwd@server:port /bin/sh -c echo "Hello world"', ['http_proxy']],
  ['|1 TOKEN=t0k3n /bin/sh -c ./fetch.sh', ['TOKEN']],
  ['/bin/sh -c SECRET=myLittleSecret VAR2=VALUE2 VAR3=VALUE3 echo "Do something"', ['SECRET']],
  [`/bin/sh -c #(nop)  ENV AWS_ACCESS_KEY_ID=${fake.awsAccessKeyId()}`, ['AWS_ACCESS_KEY_ID']],
  [`ARG DOCKERHUB_TOKEN=${fake.dockerhubToken()}`, ['DOCKERHUB_TOKEN']],
  [`RUN /bin/sh -c export DEPLOY_KEY='${fake.generatedKey()}' && ./deploy # buildkit`, ['DEPLOY_KEY']],
  [`RUN /bin/sh -c git clone ${fake.postgresUrl()} /src # buildkit`, [undefined]],
  [`/bin/sh -c curl -H "Authorization: Bearer ${fake.jwt()}" https://api.example.com`, [undefined]],
  // Credentials inside option strings passed as build args, and typed into the command.
  ['RUN |1 MAVEN_OPTS=-Dgpg.passphrase=Zq8mPl2xWv /bin/sh -c mvn deploy # buildkit', ['MAVEN_OPTS']],
  [
    'RUN |2 JAVA_OPTS=-Xmx1g -Djavax.net.ssl.trustStorePassword=changeit APP=web /bin/sh -c ./build.sh # buildkit',
    ['JAVA_OPTS'],
  ],
  ['|1 CMD_ARGS=--user admin --password Zq8mPl2xWv /bin/sh -c ./configure', ['CMD_ARGS']],
  ['|1 MYSQL_OPTS=-uroot -pZq8mPl2xWv /bin/sh -c ./seed.sh', ['MYSQL_OPTS']],
  ['RUN /bin/sh -c mvn -B deploy -Dgpg.passphrase=Zq8mPl2xWv # buildkit', [undefined]],
  [`RUN /bin/sh -c curl -fsS -d '{"text":"ok"}' ${fake.discordWebhook()} # buildkit`, [undefined]],
  [
    'RUN /bin/sh -c sqlcmd -C "Server=db;Database=app;User Id=sa;Password=Zq8mPl2xWv" -i seed.sql # buildkit',
    [undefined],
  ],
];

const benign: string[] = [
  '/bin/sh -c #(nop) ADD file:2e002305ccb9d8a4dcef52509c4c50b9a15e76c9c49ca6abda3e0d7091c63fa7 in / ',
  '|1 myarg=zzz /bin/sh -c apk update',
  'RUN |1 pkg=curl /bin/sh -c apk add $pkg # buildkit',
  'RUN |1 GPG_KEYS=39B641343D8C104B2B146DC3F9C39DC0B9698544 E60913E4DF209907D8E30D96659A97C9CF2A795A /bin/sh -c set -eux; ./configure # buildkit',
  'RUN |1 JULIA_GPG=64B779A570972FFF7BFC2B54EAD471E1A1F2C10A /bin/sh -c make # buildkit',
  'RUN |1 PG_SHA256=ae14f24c14727e0b2ded1c5553031666099bd1054db3ef44bfa6e2bd6d554a56 /bin/sh -c make # buildkit',
  '/bin/sh -c #(nop)  ENV GPG_KEYS=05AB33110949707C93A279E3D3EFE6B686867BA6 07E48665A34DCAFAE522E5E6266191C37C037D42',
  '/bin/sh -c #(nop) ENV ABC=hello PASS= ',
  '/bin/sh -c #(nop) ARG ALSO_SECRET=',
  '/bin/sh -c HELLO="PASS=\\"notThis\\"" echo "false positive"',
  "/bin/sh -c echo 'secret = foo;' > test.conf",
  '/bin/sh -c set -ex; key=\'B97B0AFCAA1A47F044F244A07FCC7D46ACCC4CF8\'; export GNUPGHOME="$(mktemp -d)"; gpg --batch --keyserver keyserver.ubuntu.com --recv-keys "$key"',
  '/bin/sh -c set -eux; key=\'BCA4 3417 C3B4 85DD 128E  C6D4 B7B3 B788 A8D3 785C\'; gpg --recv-keys "$key"',
  "/bin/sh -c set -x; NGINX_GPGKEY=573BFD6B3D8FBC641079A6ABABF5BD827BD9BF62; NGINX_GPGKEY_PATH=/usr/share/keyrings/nginx-archive-keyring.gpg; found=''",
  'RUN /bin/sh -c export NPM_TOKEN="$(cat /run/secrets/npm)" && npm ci # buildkit',
  `RUN /bin/sh -c git clone https://oauth2:\${GITLAB_TOKEN}@gitlab.com/group/repo.git # buildkit`,
  'USER root',
  `RUN |1 MAVEN_OPTS=-Dgpg.passphrase=\${GPG_PASSPHRASE} /bin/sh -c mvn deploy # buildkit`,
  'RUN |1 JAVA_OPTS=-Djavax.net.ssl.trustStore=/etc/ssl/certs/java/cacerts /bin/sh -c ./build.sh # buildkit',
  'RUN /bin/sh -c mvn -B deploy -Dgpg.passphrase="$GPG_PASSPHRASE" # buildkit',
  'RUN /bin/sh -c echo "$REGISTRY_PASSWORD" | docker login --password-stdin -u ci registry.example # buildkit',
  'RUN /bin/sh -c set -eux; password=$(openssl rand -hex 16); echo "$password" > /run/pw # buildkit',
  'RUN /bin/sh -c gcc -O2 -pthread -o app app.c # buildkit',
  'HEALTHCHECK &{["CMD-SHELL" "curl -sS 127.0.0.1 || exit 1"] "10s" "3s" "0s" \'\\x00\'}',
];

describe('secret-history', () => {
  it.each(leaks)('%s leaks %j', (createdBy, keys) => {
    const findings = secretHistory(withHistory('/bin/sh -c #(nop)  CMD ["sh"]', createdBy));
    expect(findings.map((f) => f.key)).toEqual(keys);
    for (const f of findings) {
      expect(f.rule).toBe('secret-history');
      expect(f.historyIndex).toBe(1);
    }
  });

  it.each(benign)('%s leaks nothing', (createdBy) => {
    expect(secretHistory(withHistory(createdBy))).toEqual([]);
  });

  it('writes the message the contract shows', () => {
    const findings = secretHistory(
      withHistory('a', 'b', 'c', `RUN |1 NPM_TOKEN=${fake.npmToken()} /bin/sh -c npm ci # buildkit`),
    );
    expect(findings).toEqual([
      {
        rule: 'secret-history',
        key: 'NPM_TOKEN',
        historyIndex: 3,
        kind: 'npm-token',
        message: 'secret-history: build arg NPM_TOKEN in history[3] looks like an npm token',
      },
    ]);
  });
});
