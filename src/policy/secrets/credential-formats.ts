// Credential formats with a fixed, vendor-issued shape. Patterns follow the public rule sets of gitleaks
// (cmd/generate/config/rules/*.go) and trufflehog (pkg/detectors/*), tightened to the documented prefixes.
// Every quantifier is bounded or sits between literal anchors, so a search stays linear on long input.

export type CredentialFormat = {
  id: string;
  /** Completes "… looks like <description>". */
  description: string;
  pattern: RegExp;
};

// `(?<![A-Za-z0-9])` / `(?![A-Za-z0-9])` are word edges that also treat `_` and `-` as part of a token where the
// format itself uses them.
export const CREDENTIAL_FORMATS: readonly CredentialFormat[] = [
  {
    id: 'aws-access-key-id',
    description: 'an AWS access key id',
    pattern: /(?<![A-Za-z0-9])(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}(?![A-Za-z0-9])/,
  },
  {
    // Alibaba Cloud AccessKey ids: LTAI and 12 (older) or 20 characters.
    id: 'alibaba-access-key-id',
    description: 'an Alibaba Cloud AccessKey id',
    pattern: /(?<![A-Za-z0-9])LTAI[A-Za-z0-9]{12}(?:[A-Za-z0-9]{8})?(?![A-Za-z0-9])/,
  },
  {
    // Tencent Cloud SecretId: AKID and 32 characters.
    id: 'tencent-secret-id',
    description: 'a Tencent Cloud SecretId',
    pattern: /(?<![A-Za-z0-9])AKID[A-Za-z0-9]{32}(?![A-Za-z0-9])/,
  },
  {
    id: 'github-token',
    description: 'a GitHub token',
    pattern: /(?<![A-Za-z0-9_])gh[pousr]_[A-Za-z0-9]{36,255}(?![A-Za-z0-9])/,
  },
  {
    id: 'github-fine-grained-pat',
    description: 'a GitHub fine-grained personal access token',
    pattern: /(?<![A-Za-z0-9_])github_pat_[A-Za-z0-9_]{22,255}(?![A-Za-z0-9_])/,
  },
  {
    id: 'gitlab-token',
    description: 'a GitLab token',
    pattern: /(?<![A-Za-z0-9_-])gl(?:pat|dt|ptt|rt|oas|cbt|ft|imt|agent|soat)-[A-Za-z0-9_-]{20,255}/,
  },
  {
    id: 'slack-token',
    description: 'a Slack token',
    pattern: /(?<![A-Za-z0-9])xox[abposre]-(?:\d{1,20}-){1,3}[A-Za-z0-9-]{8,128}/,
  },
  {
    id: 'slack-webhook',
    description: 'a Slack webhook URL',
    pattern: /hooks\.slack\.com\/(?:services|workflows|triggers)\/[A-Za-z0-9+/_-]{20,200}/,
  },
  {
    id: 'stripe-key',
    description: 'a Stripe secret or restricted key',
    pattern: /(?<![A-Za-z0-9])(?:sk|rk)_(?:test|live|prod)_[A-Za-z0-9]{10,255}/,
  },
  {
    id: 'gcp-api-key',
    description: 'a Google API key',
    pattern: /(?<![A-Za-z0-9_-])AIza[A-Za-z0-9_-]{35}(?![A-Za-z0-9_-])/,
  },
  {
    id: 'gcp-service-account-key',
    description: 'a Google service account key',
    pattern: /"type"\s{0,8}:\s{0,8}"service_account"/,
  },
  {
    id: 'anthropic-api-key',
    description: 'an Anthropic API key',
    pattern: /(?<![A-Za-z0-9])sk-ant-(?:api|admin)\d\d-[A-Za-z0-9_-]{80,255}/,
  },
  {
    id: 'openai-api-key',
    description: 'an OpenAI API key',
    pattern:
      /(?<![A-Za-z0-9])sk-(?:(?:proj|svcacct|admin)-[A-Za-z0-9_-]{20,255}|[A-Za-z0-9_-]{10,255}T3BlbkFJ[A-Za-z0-9_-]{10,255}|[A-Za-z0-9]{48})(?![A-Za-z0-9_-])/,
  },
  {
    id: 'age-secret-key',
    description: 'an age secret key',
    pattern: /AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}/,
  },
  {
    id: 'grafana-token',
    description: 'a Grafana service account or cloud token',
    pattern: /(?<![A-Za-z0-9_])(?:glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}|glc_[A-Za-z0-9+/]{32,400}={0,2})/,
  },
  {
    id: 'vault-token',
    description: 'a HashiCorp Vault token',
    pattern: /(?<![A-Za-z0-9])hv[sbr]\.[A-Za-z0-9_-]{24,512}/,
  },
  {
    id: 'huggingface-token',
    description: 'a Hugging Face token',
    pattern: /(?<![A-Za-z0-9_])(?:hf_|api_org_)[A-Za-z]{34}(?![A-Za-z0-9])/,
  },
  {
    id: 'pulumi-token',
    description: 'a Pulumi access token',
    pattern: /(?<![A-Za-z0-9])pul-[a-f0-9]{40}(?![A-Za-z0-9])/,
  },
  {
    id: 'databricks-token',
    description: 'a Databricks token',
    pattern: /(?<![A-Za-z0-9])dapi[a-f0-9]{32}(?:-\d)?(?![A-Za-z0-9])/,
  },
  {
    id: 'digitalocean-token',
    description: 'a DigitalOcean token',
    pattern: /(?<![A-Za-z0-9])do[opr]_v1_[a-f0-9]{64}(?![A-Za-z0-9])/,
  },
  {
    id: 'dockerhub-token',
    description: 'a Docker Hub access token',
    pattern: /(?<![A-Za-z0-9])dckr_(?:pat|oat)_[A-Za-z0-9_-]{27,64}/,
  },
  {
    id: 'npm-token',
    description: 'an npm token',
    pattern: /(?<![A-Za-z0-9_])npm_[A-Za-z0-9]{36}(?![A-Za-z0-9])/,
  },
  {
    id: 'pypi-token',
    description: 'a PyPI token',
    pattern: /pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,1000}/,
  },
  {
    id: 'shopify-token',
    description: 'a Shopify access token',
    pattern: /(?<![A-Za-z0-9])shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}(?![A-Za-z0-9])/,
  },
  {
    id: 'linear-api-key',
    description: 'a Linear API key',
    pattern: /(?<![A-Za-z0-9_])lin_api_[A-Za-z0-9]{40}(?![A-Za-z0-9])/,
  },
  {
    id: 'sendgrid-api-key',
    description: 'a SendGrid API key',
    pattern: /(?<![A-Za-z0-9])SG\.[A-Za-z0-9_-]{20,24}\.[A-Za-z0-9_-]{39,50}(?![A-Za-z0-9_-])/,
  },
  {
    id: 'twilio-api-key',
    description: 'a Twilio API key',
    pattern: /(?<![A-Za-z0-9])SK[0-9a-f]{32}(?![A-Za-z0-9])/,
  },
  {
    id: 'mailgun-api-key',
    description: 'a Mailgun API key',
    pattern: /(?<![A-Za-z0-9])key-[0-9a-f]{32}(?![A-Za-z0-9])/,
  },
  {
    id: 'new-relic-key',
    description: 'a New Relic API key',
    pattern: /(?<![A-Za-z0-9])NR(?:AK|AA|II|JS)-[A-Z0-9]{27}(?![A-Za-z0-9])/,
  },
  {
    id: 'notion-token',
    description: 'a Notion integration token',
    pattern: /(?<![A-Za-z0-9_])ntn_\d{11}[A-Za-z0-9]{35}(?![A-Za-z0-9])/,
  },
  {
    // OpenShift OAuth access tokens (`oc whoami -t`): sha256~ and 43 base64url characters.
    id: 'openshift-token',
    description: 'an OpenShift access token',
    pattern: /(?<![A-Za-z0-9_-])sha256~[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])/,
  },
  {
    // HubSpot private app access tokens: pat-<region>-<uuid>.
    id: 'hubspot-token',
    description: 'a HubSpot private app token',
    pattern:
      /(?<![A-Za-z0-9])pat-(?:na|eu|ap)\d-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(?![A-Za-z0-9])/,
  },
  {
    id: 'doppler-token',
    description: 'a Doppler token',
    pattern: /(?<![A-Za-z0-9])dp\.(?:st|sa|ct|scim|audit|pt)\.[A-Za-z0-9_.-]{40,128}/,
  },
];
