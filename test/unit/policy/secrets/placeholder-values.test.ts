import { describe, expect, it } from 'vitest';
import { detectSecret } from '../../../../src/policy/secrets/detect.js';
import { hasSequentialFiller, isProse } from '../../../../src/policy/secrets/placeholders.js';
import { fake } from './fake-credentials.js';

// Documentation placeholders under secret names: ellipses, the variable's own name, masked or filler bodies
// behind a real vendor prefix, and prose. Each benign row has a secret twin to show the rule is narrow.
const benign: [name: string, value: string][] = [
  ['DB_PASSWORD', '...'],
  ['API_TOKEN', '…'],
  ['DB_PASSWORD', 'DB_PASSWORD'],
  ['DB_PASSWORD', 'db_password'],
  ['GITHUB_TOKEN', 'github-token'],
  ['OPENSHIFT_TOKEN', 'sha256~XXXXXXXX'],
  ['OPENSHIFT_TOKEN', `sha256~${'X'.repeat(43)}`],
  ['STRIPE_SECRET_KEY', `sk_live_${'X'.repeat(20)}1234`],
  ['NOTION_TOKEN', 'ntn_12345678901abcdefghijklmnopqrstuvwxyzABCDEFGHI'],
  ['GH_TOKEN', 'ghp_012345678901234567890123456789abcdef'],
  ['DATABRICKS_TOKEN', 'dapi1234567890abcdef1234567890abcdef'],
  ['API_KEY', 'Get this from the console'],
  ['SLACK_TOKEN', 'Ask the platform team for a bot token'],
  ['CLIENT_SECRET', 'must be provided at run time'],
  ['ADMIN_PASSWORD', 'Set this in the deployment, not in the image'],
];

const secrets: [name: string, value: string][] = [
  ['DB_PASSWORD', 'Db_Password_2'],
  ['OPENSHIFT_TOKEN', fake.openshiftToken()],
  ['NOTION_TOKEN', fake.notionToken()],
  ['GH_TOKEN', fake.githubToken()],
  // A weak password is a password: sequential digits do not make it filler under a password name.
  ['DB_PASSWORD', '12345678'],
  ['SECRET', 'hello world'],
  ['DB_PASSWORD', 'correct horse battery staple'],
];

describe('placeholder values', () => {
  it.each(benign)('%s=%j is a placeholder, not a secret', (name, value) => {
    expect(detectSecret(name, value)).toBeUndefined();
  });

  it.each(secrets)('%s=%j is still a secret', (name, value) => {
    expect(detectSecret(name, value)).toBeDefined();
  });

  it('treats only runs of eight ascending digits as filler', () => {
    expect(hasSequentialFiller('x1234567y')).toBe(false);
    expect(hasSequentialFiller('x12345678y')).toBe(true);
    expect(hasSequentialFiller('7890123456')).toBe(true);
    expect(hasSequentialFiller('abcdefghijklmnop')).toBe(false);
    expect(hasSequentialFiller(fake.generatedKey())).toBe(false);
  });

  it('reads instructions and sentences as prose, two words or a word list as not', () => {
    expect(isProse('Get this from the console')).toBe(true);
    expect(isProse('this value comes from the vault')).toBe(true);
    expect(isProse('hello world')).toBe(false);
    expect(isProse('correct horse battery staple')).toBe(false);
    expect(isProse('Get s3cr3t!x from')).toBe(false);
  });
});
