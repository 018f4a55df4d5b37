import { looksGenerated } from './entropy.js';
import { hasSequentialFiller, isMasked } from './placeholders.js';

// Webhook URLs whose path is the credential: anyone holding the URL can post as the integration.
//   Discord           https://discord.com/api/webhooks/<id>/<token>
//   Microsoft Teams   https://<tenant>.webhook.office.com/webhookb2/<uuid>@<uuid>/IncomingWebhook/<hex>/<uuid>
//                     (and the older outlook.office.com/webhook/…)
//   HubSpot           https://api-na1.hubapi.com/automation/v4/webhook-triggers/<portal>/<token>
//   Mattermost, Rocket.Chat, Gitea, n8n and others: …/hooks/<token>, …/webhook/<token>
//   Zapier            https://hooks.zapier.com/hooks/catch/<account>/<hook>/
// (Slack's hooks.slack.com URLs are a fixed format in credential-formats.ts.) The token is a generated-looking
// path segment after a `hooks`/`webhook(s)` segment; `…/hooks/pre-commit` or `…/webhooks/github` are names,
// not tokens. Masked and filler tokens (`XXXX`, `123456789…`) are placeholders.

const HTTP_URL = /https?:\/\/([A-Za-z0-9.-]{1,253})(?::\d{1,5})?(\/[^\s"'<>`?#]{0,2048})/gi;
const HOOK_SEGMENT = /^(?:hooks?|webhooks?|webhookb2|webhook-triggers|incomingwebhook)$/i;
const TOKEN_SEGMENT = /^[A-Za-z0-9_@-]{16,256}$/;
const ZAPIER_HOOK = /^\/hooks\/catch\/\d{4,12}\/[a-z0-9]{5,16}(?:\/|$)/;
const MAX_URLS = 64;

const HOSTS: [host: RegExp, description: string][] = [
  [/^(?:[a-z]+\.)?discord(?:app)?\.com$/i, 'a Discord webhook URL'],
  [/(?:^|\.)webhook\.office\.com$|^outlook\.office(?:365)?\.com$/i, 'a Microsoft Teams webhook URL'],
  [/(?:^|\.)hubapi\.com$|(?:^|\.)hubspot\.com$/i, 'a HubSpot webhook URL'],
];

export function findWebhookUrl(text: string): { kind: 'webhook-url'; description: string } | undefined {
  let urls = 0;
  for (const match of text.matchAll(HTTP_URL)) {
    if (++urls > MAX_URLS) return undefined;
    const host = match[1] ?? '';
    const path = match[2] ?? '';
    if (host.toLowerCase() === 'hooks.zapier.com' && ZAPIER_HOOK.test(path)) {
      return { kind: 'webhook-url', description: 'a Zapier webhook URL' };
    }
    if (!hasTokenAfterHookSegment(path)) continue;
    const known = HOSTS.find(([pattern]) => pattern.test(host));
    return { kind: 'webhook-url', description: known?.[1] ?? 'a webhook URL with its token in the path' };
  }
  return undefined;
}

function hasTokenAfterHookSegment(path: string): boolean {
  const segments = path.split('/', 64);
  const hook = segments.findIndex((s) => HOOK_SEGMENT.test(s));
  if (hook < 0) return false;
  return segments.slice(hook + 1, hook + 7).some(isToken);
}

function isToken(segment: string): boolean {
  return (
    TOKEN_SEGMENT.test(segment) &&
    /[0-9]/.test(segment) &&
    /[A-Za-z]/.test(segment) &&
    looksGenerated(segment) &&
    !isMasked(segment) &&
    !hasSequentialFiller(segment)
  );
}
