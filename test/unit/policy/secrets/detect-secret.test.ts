import { describe, expect, it } from 'vitest';
import { detectSecret } from '../../../../src/policy/secrets/detect.js';
import { fake } from './fake-credentials.js';

// Judged by the value: a known format is a secret under any name; a secret-ish name needs a literal,
// non-placeholder value; look-alikes from official images are not secrets.
const secrets: [name: string, value: string, kind: string][] = [
  ['AWS_ACCESS_KEY_ID', fake.awsAccessKeyId(), 'aws-access-key-id'],
  ['AWS_SECRET_ACCESS_KEY', fake.awsSecretAccessKey(), 'aws-secret-access-key'],
  ['GITHUB_TOKEN', fake.githubToken(), 'github-token'],
  ['NPM_TOKEN', fake.githubToken(), 'github-token'],
  ['GH_TOKEN', fake.githubFineGrained(), 'github-fine-grained-pat'],
  ['GITLAB_TOKEN', fake.gitlabToken(), 'gitlab-token'],
  ['SLACK_BOT_TOKEN', fake.slackBotToken(), 'slack-token'],
  ['SLACK_WEBHOOK_URL', fake.slackWebhook(), 'slack-webhook'],
  ['STRIPE_SECRET_KEY', fake.stripeKey(), 'stripe-key'],
  ['GOOGLE_API_KEY', fake.gcpApiKey(), 'gcp-api-key'],
  ['ANTHROPIC_API_KEY', fake.anthropicKey(), 'anthropic-api-key'],
  ['OPENAI_API_KEY', fake.openaiKey(), 'openai-api-key'],
  ['SOPS_AGE_KEY', fake.ageKey(), 'age-secret-key'],
  ['GRAFANA_SERVICE_ACCOUNT_TOKEN', fake.grafanaToken(), 'grafana-token'],
  ['VAULT_TOKEN', fake.vaultToken(), 'vault-token'],
  ['HF_TOKEN', fake.huggingfaceToken(), 'huggingface-token'],
  ['PULUMI_ACCESS_TOKEN', fake.pulumiToken(), 'pulumi-token'],
  ['DATABRICKS_TOKEN', fake.databricksToken(), 'databricks-token'],
  ['DIGITALOCEAN_ACCESS_TOKEN', fake.digitaloceanToken(), 'digitalocean-token'],
  ['DOCKERHUB_TOKEN', fake.dockerhubToken(), 'dockerhub-token'],
  ['NODE_AUTH_TOKEN', fake.npmToken(), 'npm-token'],
  ['TWINE_PASSWORD', fake.pypiToken(), 'pypi-token'],
  ['SHOPIFY_ACCESS_TOKEN', fake.shopifyToken(), 'shopify-token'],
  ['LINEAR_API_KEY', fake.linearKey(), 'linear-api-key'],
  ['SENDGRID_API_KEY', fake.sendgridKey(), 'sendgrid-api-key'],
  ['TLS_KEY', fake.privateKey(), 'private-key'],
  ['SSH_PRIVATE_KEY', fake.privateKey().replaceAll('\n', '\\n'), 'private-key'],
  ['ACCESS_TOKEN', fake.jwt(), 'jwt'],
  ['DATABASE_URL', fake.postgresUrl(), 'url-credentials'],
  ['http_proxy', 'http://proxyuser:proxypass@proxy.internal:3128', 'url-credentials'],
  // A format match does not depend on the name.
  ['SOME_SETTING', fake.awsAccessKeyId(), 'aws-access-key-id'],
  // Weak and default passwords are still passwords baked into the image.
  ['POSTGRES_PASSWORD', 'sonar', 'password-under-secret-name'],
  ['MARIADB_ROOT_PASSWORD', 'secret', 'password-under-secret-name'],
  ['ADMIN_PASSWORD', 'changeme', 'password-under-secret-name'],
  ['dbPassword', 'hunter2', 'password-under-secret-name'],
  ['PASS', 'ADMIN', 'password-under-secret-name'],
  ['SECRET', 'hello world', 'password-under-secret-name'],
  ['NEO4J_AUTH', 'neo4j/s3cretpass', 'password-under-secret-name'],
  ['SECRET_KEY_BASE', fake.generatedKey(), 'password-under-secret-name'],
  ['GITHUB_REGISTRY_TOKEN', 'ghp_notquitetherightshape', 'token-under-secret-name'],
  ['RABBITMQ_ERLANG_COOKIE', 'unguessablecookie', 'token-under-secret-name'],
  ['RAILS_MASTER_KEY', fake.sha256().slice(0, 32), 'token-under-secret-name'],
  ['ENCRYPTION_KEY', fake.generatedKey(), 'token-under-secret-name'],
  ['SIGNER_KEY', fake.generatedKey(), 'high-entropy-under-secret-name'],
];

const benign: [name: string, value: string][] = [
  ['GPG_KEY', fake.gpgFingerprint()],
  ['GPG_KEYS', `${fake.gpgFingerprint()} ${fake.gpgFingerprint().toLowerCase()}\t${fake.gpgFingerprint()}`],
  ['WORDPRESS_CLI_GPG_KEY', fake.gpgFingerprint()],
  ['NGINX_GPGKEY', fake.gpgFingerprint()],
  ['TINI_SIGN_KEY', fake.gpgFingerprint()],
  ['key', fake.gpgFingerprint()],
  ['key', 'BCA4 3417 C3B4 85DD 128E  C6D4 B7B3 B788 A8D3 785C'],
  ['RABBITMQ_PGP_KEY_ID', `0x${fake.gpgFingerprint()}`],
  ['PYTHON_SHA256', fake.sha256()],
  ['API_KEY_SHA256', fake.sha256()],
  ['DIND_COMMIT', fake.sha256().slice(0, 40)],
  ['NEXTCLOUD_ADMIN_PASSWORD_FILE', '/run/secrets/nextcloud_admin_password'],
  ['TLS_KEY', '/etc/ssl/private/server.key'],
  ['MYSQL_ALLOW_EMPTY_PASSWORD', 'yes'],
  ['MARIADB_ALLOW_EMPTY_ROOT_PASSWORD', '1'],
  ['POSTGRES_HOST_AUTH_METHOD', 'trust'],
  ['NEO4J_AUTH', 'none'],
  ['DOCKER_TLS_CERTDIR', '/certs'],
  ['SSL_CERT_FILE', '/etc/ssl/certs/ca-certificates.crt'],
  ['AWS_SECRET_ACCESS_KEY', ''],
  ['TOP_SECRET', '   '],
  ['AWS_SECRET_ACCESS_KEY', '[secret key]'],
  ['API_TOKEN', '<your-api-token>'],
  ['API_TOKEN', 'your_api_token_here'],
  ['MYSQL_ROOT_PASSWORD', `\${DB_ROOT_PASSWORD}`],
  ['NPM_TOKEN', '$NPM_TOKEN'],
  ['GITHUB_TOKEN', 'ghp_key'],
  ['GITHUB_TOKEN', `ghp_${'x'.repeat(36)}`],
  ['SLACK_TOKEN', 'xoxp-XXXXXXXXXX-XXXXXXXXXX-XXXXXXXXXXX-XXXXXXXXXXXXXXXX'],
  ['AWS_ACCESS_KEY_ID', `AKIA${'X'.repeat(16)}`],
  ['AWS_SECRET_ACCESS_KEY', 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'],
  ['MONGODB_URI', 'mongodb://xxxx:xxxxx@mongo.internal:27017'],
  ['DATABASE_URL', 'postgresql://app@db.internal:5432/app'],
  ['DATABASE_URL', `postgresql://app:\${DB_PASSWORD}@db.internal:5432/app`],
  ['HAPROXY_URL', 'https://www.haproxy.org/download/3.0/src/haproxy-3.0.5.tar.gz'],
  ['TOKEN_TTL', '3600'],
  ['PASSWORD_MIN_LENGTH', '12'],
  ['SSH_AUTH_SOCK', '/run/ssh-agent.sock'],
  ['PWD', '/usr/src/app'],
  ['PASSENGER_APP_ENV', 'production'],
  ['TOKENIZERS_PARALLELISM', 'false'],
  ['CACHE_KEY', 'v1'],
  ['JAVA_HOME', '/opt/java/openjdk'],
  ['PATH', '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
];

describe('detectSecret', () => {
  it.each(secrets)('%s with a credential value is a secret', (name, value, kind) => {
    expect(detectSecret(name, value)?.kind).toBe(kind);
  });

  it.each(benign)('%s=%j is not a secret', (name, value) => {
    expect(detectSecret(name, value)).toBeUndefined();
  });

  it('skips shell expansions only when the value comes from a shell command', () => {
    expect(detectSecret('API_TOKEN', 'prefix-$SUFFIX', { shell: true })).toBeUndefined();
    expect(detectSecret('API_TOKEN', 'prefix-$SUFFIX')?.kind).toBe('token-under-secret-name');
  });

  it('gives a reason that never contains the value', () => {
    for (const [name, value] of secrets) {
      const match = detectSecret(name, value);
      expect(match?.reason).toBeDefined();
      expect(match?.reason).not.toContain(value);
      expect(match?.reason).toMatch(/^(?:looks like|holds) /);
    }
  });
});
