export {
  type Authenticator,
  type AuthenticatorOptions,
  createAuthenticator,
  REALM,
} from './authenticator.js';
export { AuthConfigError, parseHtpasswd, readHtpasswd } from './htpasswd.js';
