import { describe, expect, it } from 'vitest';
import { detectSecret, findCredentialFormat } from '../../../../src/policy/secrets/detect.js';
import { fake, randomish } from './fake-credentials.js';

// Webhook URLs whose path is the credential: whoever holds the URL can post as the integration.
const secrets: [name: string, value: string, reason: string][] = [
  ['DISCORD_WEBHOOK_URL', fake.discordWebhook(), 'looks like a Discord webhook URL'],
  [
    'NOTIFY_URL',
    fake.discordWebhook().replace('discord.com', 'discordapp.com'),
    'looks like a Discord webhook URL',
  ],
  ['TEAMS_WEBHOOK', fake.teamsWebhook(), 'looks like a Microsoft Teams webhook URL'],
  ['HUBSPOT_WEBHOOK', fake.hubspotWebhook(), 'looks like a HubSpot webhook URL'],
  ['MATTERMOST_HOOK', fake.mattermostWebhook(), 'looks like a webhook URL with its token in the path'],
  [
    'N8N_TRIGGER',
    `https://n8n.internal.example/webhook/${randomish('0123456789abcdef', 32, 83)}`,
    'looks like a webhook URL with its token in the path',
  ],
  [
    'ZAPIER_HOOK',
    `https://hooks.zapier.com/hooks/catch/${randomish('0123456789', 7, 84)}/b${randomish('abcdefghijklmnopqrstuvwxyz0123456789', 6, 85)}/`,
    'looks like a Zapier webhook URL',
  ],
];

const benign: [name: string, value: string][] = [
  [
    'DISCORD_WEBHOOK_URL',
    'https://discord.com/api/webhooks/123456789012345678/XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX',
  ],
  ['DISCORD_WEBHOOK_URL', 'https://discord.com/api/webhooks/<id>/<token>'],
  ['TEAMS_WEBHOOK', 'https://yourorg.webhook.office.com/webhookb2/123@456/IncomingWebhook/789/000'],
  ['HOOKS_URL', 'https://git.example/o/r/hooks/pre-commit-sample'],
  ['GITHUB_HOOKS', 'https://api.github.com/repos/o/r/hooks/12345678'],
  ['WEBHOOK_URL', 'https://ci.example/webhooks/github'],
  ['WEBHOOK_URL', 'https://chat.example/hooks/abcdefghijklmnopqrstuvwxyz'],
  ['WEBHOOK_URL', 'https://chat.example/hooks/1234567890abcdefghijklmn'],
];

describe('webhook URLs with their token in the path', () => {
  it.each(secrets)('%s is a secret', (name, value, reason) => {
    const match = detectSecret(name, value);
    expect(match?.kind).toBe('webhook-url');
    expect(match?.reason).toBe(reason);
  });

  // Placeholders, names and sequential filler where the token would be; ids that are public (GitHub hook ids).
  it.each(benign)('%s=%j is not a secret', (name, value) => {
    expect(detectSecret(name, value)).toBeUndefined();
  });

  it('finds a webhook URL inside a RUN command', () => {
    const command = `curl -fsS -X POST -d '{"content":"built"}' ${fake.discordWebhook()}`;
    expect(findCredentialFormat(command, { shell: true })?.kind).toBe('webhook-url');
  });
});
