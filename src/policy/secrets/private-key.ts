import { isPlaceholder } from './placeholders.js';
import { BASE64_PEM_PREFIX, decodePemHeader } from './public-key.js';

// RFC 7468 textual encoding labels for private keys ("PRIVATE KEY", "RSA PRIVATE KEY", "ENCRYPTED PRIVATE
// KEY", OpenSSH's "OPENSSH PRIVATE KEY", PuTTY and PGP's "PGP PRIVATE KEY BLOCK"). Env values often carry
// the newlines escaped as `\n`, so only the header is required.
const PEM_PRIVATE_KEY = /-----BEGIN[ A-Z0-9]{0,40} PRIVATE KEY(?: BLOCK)?-----/;
const PUTTY_PRIVATE_KEY = /PuTTY-User-Key-File-\d: /;
/** How many base64-encoded PEM headers are decoded at most; each decode reads 96 characters. */
const MAX_BASE64_HEADERS = 16;

export function findPrivateKey(text: string): { kind: 'private-key'; description: string } | undefined {
  const match = PEM_PRIVATE_KEY.exec(text) ?? PUTTY_PRIVATE_KEY.exec(text);
  if (match === null) return findBase64PrivateKey(text);
  // Documentation keys carry EXAMPLE in the body (AWS and vendor docs); a header followed only by a mask is
  // a placeholder too.
  const body = text.slice(match.index + match[0].length, match.index + match[0].length + 8192);
  if (body.includes('EXAMPLE') || (body.trim() !== '' && isPlaceholder(body.split('-----')[0] ?? ''))) {
    return undefined;
  }
  return { kind: 'private-key', description: 'a private key' };
}

// A PEM private key encoded once more in base64, as Kubernetes secrets and `base64 -w0 key.pem` write it.
function findBase64PrivateKey(text: string): { kind: 'private-key'; description: string } | undefined {
  let at = text.indexOf(BASE64_PEM_PREFIX);
  for (let seen = 0; at >= 0 && seen < MAX_BASE64_HEADERS; seen++) {
    const header = decodePemHeader(text, at);
    if (header !== undefined && PEM_PRIVATE_KEY.test(header)) {
      return { kind: 'private-key', description: 'a base64-encoded private key' };
    }
    at = text.indexOf(BASE64_PEM_PREFIX, at + BASE64_PEM_PREFIX.length);
  }
  return undefined;
}
