// Header names as constants: a mistyped header string is a silent bug (cloudflare/serverless-registry once
// shipped `Digest-Content-Digest`). Lower case, as Node presents incoming headers.
export const header = {
  accept: 'accept',
  authorization: 'authorization',
  contentLength: 'content-length',
  contentRange: 'content-range',
  contentType: 'content-type',
  dockerContentDigest: 'docker-content-digest',
  dockerDistributionApiVersion: 'docker-distribution-api-version',
  etag: 'etag',
  link: 'link',
  location: 'location',
  range: 'range',
  acceptRanges: 'accept-ranges',
  retryAfter: 'retry-after',
  userAgent: 'user-agent',
  warning: 'warning',
  wwwAuthenticate: 'www-authenticate',
} as const;

export const distributionApiVersion = 'registry/2.0';
