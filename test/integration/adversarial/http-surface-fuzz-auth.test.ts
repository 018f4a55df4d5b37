import { fuzzHttpSurface } from './http-surface.js';

// The whole HTTP surface with client authentication required (htpasswd, anonymous pulls off): besides the
// properties in http-surface.ts, no /v2/ answer is a 2xx without the user's credentials, whatever the
// Authorization header holds (garbage base64, no colon, other schemes, a very long value).
fuzzHttpSurface({ label: 'authentication required', auth: { user: 'fuzzer', password: 'fuzz-password-1' } });
