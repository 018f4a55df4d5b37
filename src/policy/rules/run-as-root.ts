import type { ImageFacts } from '../facts.js';
import type { Finding } from '../finding.js';

export type RunAsRootOptions = {
  /**
   * The kubelet's `runAsNonRoot` reading: a user given by name cannot be proven non-root without the image's
   * /etc/passwd, so it is refused (kubernetes pkg/kubelet/kuberuntime/security_context_others.go,
   * verifyRunAsNonRoot), as is a uid outside the int32 range the kubelet accepts.
   */
  strict: boolean;
};

export type ImageUser =
  | { kind: 'root'; spelling: 'default' | 'name' | 'uid' }
  | { kind: 'uid'; uid: number }
  | { kind: 'invalid-uid' }
  | { kind: 'name'; name: string };

const NUMERIC = /^[+-]?\d+$/;
const MAX_INT32 = 2_147_483_647;

/**
 * Reads `config.User` as the runtimes do: `user[:group]`, the user part an integer uid or a name (containerd
 * getUserFromImage splits on ":" and ParseInts the user part, so "00", "+0" and "-0" are uid 0). An empty
 * user part is the image default, root (kubelet getImageUser: "If non of them is set, treat it as root").
 * Names are case-sensitive: only `root` is root without /etc/passwd. The group never makes a user root.
 */
export function classifyUser(user: string | undefined, os?: string): ImageUser {
  const raw = (user ?? '').trim();
  const colon = raw.indexOf(':');
  const userPart = (colon < 0 ? raw : raw.slice(0, colon)).trim();
  if (userPart === '') return { kind: 'root', spelling: 'default' };
  if (NUMERIC.test(userPart)) {
    const uid = Number.parseInt(userPart, 10);
    if (uid === 0) return { kind: 'root', spelling: 'uid' };
    if (uid < 0 || uid > MAX_INT32) return { kind: 'invalid-uid' };
    return { kind: 'uid', uid };
  }
  if (userPart === 'root') return { kind: 'root', spelling: 'name' };
  // Windows account names are case-insensitive; ContainerAdministrator is the Windows container's root.
  if (os === 'windows' && userPart.toLowerCase() === 'containeradministrator') {
    return { kind: 'root', spelling: 'name' };
  }
  return { kind: 'name', name: userPart };
}

export function runAsRoot(facts: ImageFacts, options: RunAsRootOptions): Finding[] {
  const user = classifyUser(facts.user, facts.os);
  switch (user.kind) {
    case 'root':
      return [
        {
          rule: 'run-as-root',
          message:
            user.spelling === 'default'
              ? 'run-as-root: image config has no USER (runs as root)'
              : 'run-as-root: image config USER is uid 0 (root)',
        },
      ];
    case 'uid':
      return [];
    case 'invalid-uid':
      return options.strict
        ? [{ rule: 'run-as-root', message: 'run-as-root: image config USER is not a valid uid (strict)' }]
        : [];
    case 'name':
      return options.strict
        ? [
            {
              rule: 'run-as-root',
              message:
                'run-as-root: image config USER is a name, not a numeric uid; cannot verify non-root (strict)',
            },
          ]
        : [];
    default:
      return assertNever(user);
  }
}

function assertNever(value: never): never {
  throw new Error(`unexpected user classification: ${JSON.stringify(value)}`);
}
