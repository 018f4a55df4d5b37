// Deterministic fake credentials, assembled at run time so that no credential-shaped literal sits in the
// repository: push-protection scanners would flag it and cannot tell that it is fake.

const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const DIGITS = '0123456789';
export const ALNUM = UPPER + LOWER + DIGITS;
const HEX = '0123456789abcdef';
const BASE64URL = `${ALNUM}_-`;
const BECH32 = 'QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L';
const BASE64 = `${ALNUM}+/`;
const uuid = (seed: number) => {
  const h = randomish(HEX, 32, seed);
  return [h.slice(0, 8), h.slice(8, 12), h.slice(12, 16), h.slice(16, 20), h.slice(20)].join('-');
};

/** A reproducible pseudo-random string (a small LCG; nothing here needs to be unpredictable). */
export function randomish(alphabet: string, length: number, seed = 7): string {
  let state = seed >>> 0;
  let out = '';
  for (let i = 0; i < length; i++) {
    state = (Math.imul(state, 1_103_515_245) + 12_345) >>> 0;
    out += alphabet[(state >>> 8) % alphabet.length];
  }
  return out;
}

const b64url = (text: string) => Buffer.from(text).toString('base64url');
const join = (...parts: string[]) => parts.join('');

export const fake = {
  awsAccessKeyId: () => join('AK', 'IA', randomish(UPPER + DIGITS, 16, 1)),
  awsSecretAccessKey: () => randomish(`${ALNUM}/+`, 40, 2),
  githubToken: () => join('gh', 'p_', randomish(ALNUM, 36, 3)),
  githubFineGrained: () => join('github', '_pat_', randomish(`${ALNUM}_`, 82, 4)),
  gitlabToken: () => join('gl', 'pat-', randomish(`${ALNUM}_-`, 20, 5)),
  slackBotToken: () =>
    join('xo', 'xb-', randomish(DIGITS, 12, 6), '-', randomish(DIGITS, 13, 7), '-', randomish(ALNUM, 24, 8)),
  slackWebhook: () =>
    join(
      'https://hooks.',
      'slack.com/services/T',
      randomish(UPPER + DIGITS, 8, 9),
      '/B',
      randomish(UPPER + DIGITS, 8, 10),
      '/',
      randomish(ALNUM, 24, 11),
    ),
  stripeKey: () => join('sk', '_live_', randomish(ALNUM, 32, 12)),
  gcpApiKey: () => join('AI', 'za', randomish(`${ALNUM}_-`, 35, 13)),
  anthropicKey: () => join('sk-', 'ant-api03-', randomish(BASE64URL, 93, 14)),
  openaiKey: () => join('sk-', 'proj-', randomish(BASE64URL, 60, 15)),
  ageKey: () => join('AGE-', 'SECRET-KEY-1', randomish(BECH32, 58, 16)),
  grafanaToken: () => join('gl', 'sa_', randomish(ALNUM, 32, 17), '_', randomish(HEX, 8, 18)),
  vaultToken: () => join('hv', 's.', randomish(BASE64URL, 90, 19)),
  huggingfaceToken: () => join('hf', '_', randomish(UPPER + LOWER, 34, 20)),
  pulumiToken: () => join('pu', 'l-', randomish(HEX, 40, 21)),
  databricksToken: () => join('da', 'pi', randomish(HEX, 32, 22)),
  digitaloceanToken: () => join('do', 'p_v1_', randomish(HEX, 64, 23)),
  dockerhubToken: () => join('dckr', '_pat_', randomish(BASE64URL, 27, 24)),
  npmToken: () => join('np', 'm_', randomish(ALNUM, 36, 25)),
  pypiToken: () => join('pypi-', 'AgEIcHlwaS5vcmc', randomish(BASE64URL, 70, 26)),
  shopifyToken: () => join('shp', 'at_', randomish(HEX, 32, 27)),
  linearKey: () => join('lin', '_api_', randomish(ALNUM, 40, 28)),
  sendgridKey: () => join('S', 'G.', randomish(BASE64URL, 22, 29), '.', randomish(BASE64URL, 43, 30)),
  privateKey: () =>
    join(
      '-----BEGIN ',
      'RSA PRIVATE',
      ' KEY-----\n',
      randomish(`${ALNUM}/+`, 64, 31),
      '\n-----END RSA PRIVATE KEY-----',
    ),
  jwt: () =>
    join(
      b64url('{"alg":"HS256","typ":"JWT"}'),
      '.',
      b64url('{"sub":"1234567890","iat":1516239022}'),
      '.',
      randomish(BASE64URL, 43, 32),
    ),
  postgresUrl: () => join('postgresql://app:', randomish(ALNUM, 16, 33), '@db.internal:5432/app'),
  generatedKey: () => randomish(`${ALNUM}/+`, 44, 34),
  // Cloud access key ids of other providers.
  alibabaAccessKeyId: () => join('LT', 'AI', randomish(ALNUM, 20, 50)),
  tencentSecretId: () => join('AK', 'ID', randomish(ALNUM, 32, 51)),
  huaweiAccessKey: () => randomish(UPPER + DIGITS, 20, 52),
  ibmHmacAccessKeyId: () => randomish(HEX, 32, 53),
  ibmApiKey: () => randomish(`${ALNUM}_-`, 44, 54),
  notionToken: () => join('nt', 'n_', randomish(DIGITS, 11, 55), randomish(ALNUM, 35, 56)),
  openshiftToken: () => join('sha', '256~', randomish(BASE64URL, 43, 57)),
  hubspotToken: () => join('pa', 't-na1-', uuid(58)),
  // Connection strings: an Azure account key is 64 bytes in base64, a Service Bus key 32.
  azureAccountKey: () => `${randomish(BASE64, 86, 59)}==`,
  azureSharedAccessKey: () => `${randomish(BASE64, 43, 60)}=`,
  sasSignature: () => encodeURIComponent(`${randomish(BASE64, 43, 61)}=`),
  // Webhook URLs whose path is the credential.
  discordWebhook: () =>
    join(
      'https://discord.',
      'com/api/webhooks/',
      randomish(DIGITS, 19, 62),
      '/',
      randomish(BASE64URL, 68, 63),
    ),
  teamsWebhook: () =>
    join(
      'https://contoso.webhook.',
      'office.com/webhookb2/',
      uuid(64),
      '@',
      uuid(65),
      '/IncomingWebhook/',
      randomish(HEX, 32, 66),
      '/',
      uuid(67),
    ),
  mattermostWebhook: () =>
    join('https://chat.internal.example/', 'hooks/', randomish(LOWER + DIGITS, 26, 68)),
  hubspotWebhook: () =>
    join(
      'https://api-na1.',
      'hubapi.com/automation/v4/webhook-triggers/',
      randomish(DIGITS, 8, 69),
      '/',
      randomish(ALNUM, 22, 70),
    ),
  gpgFingerprint: () => randomish('0123456789ABCDEF', 40, 35),
  sha256: () => randomish(HEX, 64, 36),
};
