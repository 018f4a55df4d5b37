export type TagClass = 'fully-qualified' | 'floating';

// A tag that names one release: three numeric components (semver and its kin: `1.25.3`, `v2.0.1`,
// `3.12.10-slim-bookworm`, `2024.01.15`), a build/date stamp of six or more digits, or a commit id. Everything
// else (`latest`, `3`, `3.12`, `3.12-slim`, `stable`, `bookworm`) moves by design.
const fullVersion = /^v?\d+\.\d+\.\d+(?:[._+-][0-9A-Za-z._+-]*)?$/;
const stamp = /^v?\d{6,}(?:[._+-][0-9A-Za-z._+-]*)?$/;
const commit = /^(?:sha-|git-|g)?[0-9a-f]{7,40}$/;

/** Pure: whether a tag is expected to stay put (fully qualified) or to move (floating). */
export function classifyTag(tag: string): TagClass {
  if (fullVersion.test(tag) || stamp.test(tag)) return 'fully-qualified';
  // A commit id has at least one letter and one digit; `1234567` alone is already a stamp above.
  if (commit.test(tag) && /[a-f]/.test(tag.replace(/^(?:sha-|git-|g)/, '')) && /\d/.test(tag)) {
    return 'fully-qualified';
  }
  return 'floating';
}
