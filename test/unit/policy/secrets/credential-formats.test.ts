import { describe, expect, it } from 'vitest';
import { CREDENTIAL_FORMATS } from '../../../../src/policy/secrets/credential-formats.js';
import { findCredentialFormat } from '../../../../src/policy/secrets/detect.js';
import { fake, randomish } from './fake-credentials.js';

// One generated sample per format id in the table, so a new format cannot land untested.
const samples: Record<string, string> = {
  'aws-access-key-id': fake.awsAccessKeyId(),
  'github-token': fake.githubToken(),
  'github-fine-grained-pat': fake.githubFineGrained(),
  'gitlab-token': fake.gitlabToken(),
  'slack-token': fake.slackBotToken(),
  'slack-webhook': fake.slackWebhook(),
  'stripe-key': fake.stripeKey(),
  'gcp-api-key': fake.gcpApiKey(),
  'gcp-service-account-key': '{"type": "service_account", "project_id": "demo"}',
  'anthropic-api-key': fake.anthropicKey(),
  'openai-api-key': fake.openaiKey(),
  'age-secret-key': fake.ageKey(),
  'grafana-token': fake.grafanaToken(),
  'vault-token': fake.vaultToken(),
  'huggingface-token': fake.huggingfaceToken(),
  'pulumi-token': fake.pulumiToken(),
  'databricks-token': fake.databricksToken(),
  'digitalocean-token': fake.digitaloceanToken(),
  'dockerhub-token': fake.dockerhubToken(),
  'npm-token': fake.npmToken(),
  'pypi-token': fake.pypiToken(),
  'shopify-token': fake.shopifyToken(),
  'linear-api-key': fake.linearKey(),
  'sendgrid-api-key': fake.sendgridKey(),
  'twilio-api-key': ['S', 'K', randomish('0123456789abcdef', 32, 40)].join(''),
  'mailgun-api-key': ['key', '-', randomish('0123456789abcdef', 32, 41)].join(''),
  'new-relic-key': ['NR', 'AK-', randomish('ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789', 27, 42)].join(''),
  'alibaba-access-key-id': fake.alibabaAccessKeyId(),
  'tencent-secret-id': fake.tencentSecretId(),
  'notion-token': fake.notionToken(),
  'openshift-token': fake.openshiftToken(),
  'hubspot-token': fake.hubspotToken(),
  'doppler-token': [
    'dp',
    '.st.',
    randomish('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789', 44, 43),
  ].join(''),
};

describe('credential formats', () => {
  it('has unique ids', () => {
    const ids = CREDENTIAL_FORMATS.map((f) => f.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it.each(CREDENTIAL_FORMATS.map((f) => [f.id]))('%s matches its sample, inside other text too', (id) => {
    const sample = samples[id];
    expect(sample, `no sample for ${id}`).toBeDefined();
    expect(findCredentialFormat(sample ?? '')?.kind).toBe(id);
    expect(findCredentialFormat(`curl -H "Authorization: ${sample}" https://example.com`)?.kind).toBe(id);
  });

  it('finds private keys, JWTs and URL passwords by shape', () => {
    expect(findCredentialFormat(fake.privateKey())?.kind).toBe('private-key');
    expect(findCredentialFormat(`Bearer ${fake.jwt()}`)?.kind).toBe('jwt');
    expect(findCredentialFormat(`git clone ${fake.postgresUrl()}`)?.kind).toBe('url-credentials');
  });

  it.each([
    'PATH=/usr/local/bin:/usr/bin',
    'A035C8C19219BA821ECEA86B64E628F8D684696D',
    'https://github.com/docker-library/python.git',
    'https://user@example.com/repo.git',
    `ghp_${'x'.repeat(36)}`,
    '-----BEGIN PUBLIC KEY-----',
    'eyJhbGciOiJIUzI1NiJ9',
  ])('does not match %j', (text) => {
    expect(findCredentialFormat(text)).toBeUndefined();
  });
});
