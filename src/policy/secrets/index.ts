export { CREDENTIAL_FORMATS, type CredentialFormat } from './credential-formats.js';
export {
  type DetectOptions,
  detectSecret,
  findCredentialFormat,
  MAX_SCANNED_LENGTH,
  type SecretMatch,
} from './detect.js';
export { classifySecretName, type SecretName, type SecretNameClass } from './secret-names.js';
