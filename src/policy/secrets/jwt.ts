// RFC 7519 §3 / RFC 7515 §7.1 compact serialization: base64url(header).base64url(payload).signature. A JSON
// object header always encodes to "eyJ" ('{"'); the payload usually does. An empty signature is an unsecured
// JWT, still a bearer token.
const JWT =
  /(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{8,8192}\.[A-Za-z0-9_-]{8,65536}\.[A-Za-z0-9_-]{0,8192}(?![A-Za-z0-9_-])/;

export function findJwt(text: string): { kind: 'jwt'; description: string } | undefined {
  return JWT.test(text) ? { kind: 'jwt', description: 'a JSON Web Token' } : undefined;
}
