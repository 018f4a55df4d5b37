export { type AlertView, type DigestSighting, type ReviewView, toAlertView } from './alert-view.js';
export {
  classifyObservation,
  type KnownDigest,
  type ObservationClass,
  type TagView,
} from './classify-observation.js';
export { classifyTag, type TagClass } from './classify-tag.js';
export { createDescriber, type Describe, type DescriberOptions, envHasher } from './describer.js';
export {
  describePlatform,
  type EnvHasher,
  type ImageConfig,
  type ImageDescription,
  type PlatformDescription,
  platformString,
} from './description.js';
export { type Change, diffImages, diffPlatform, type ImageDiff, type PlatformDiff } from './diff.js';
export { TagHistory, type TagHistoryOptions, type TagHistoryView } from './history.js';
export {
  type AlertSeverity,
  defaultTagMutationSettings,
  type TagMutationAction,
  type TagMutationPattern,
  type TagMutationRule,
  type TagMutationSettings,
  tagMutationRule,
  tagMutationSettingsSchema,
} from './mutation-policy.js';
