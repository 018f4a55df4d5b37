import { findCredentialFormat } from '../secrets/detect.js';

const MAX_KEY_LENGTH = 256;

/**
 * The variable name as a finding may carry it. Docker accepts any Env entry, including one without `=` whose
 * "name" is the whole entry — possibly the credential itself. Such names are withheld.
 */
export function reportableName(name: string): string | undefined {
  if (name === '' || name.length > MAX_KEY_LENGTH || /\s/.test(name)) return undefined;
  return findCredentialFormat(name) ? undefined : name;
}
