export type { Dialect } from './migrations.js';
export {
  isPostgresUrl,
  openStore,
  type Store,
  StoreError,
  type StoreOptions,
  StoreUnavailableError,
} from './open.js';
export {
  type Db,
  enqueueEvent,
  enqueuePayloadEvent,
  Outbox,
  type OutboxReceiver,
  receiverId,
  recordWarnedImage,
  type WarnedImageInput,
} from './outbox.js';
export type * from './schema.js';
export { type AlertFilter, type ReviewResult, type TagKey, TagStore } from './tag-store.js';
