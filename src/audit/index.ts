export {
  CHAIN_VERSION,
  type ChainBreak,
  type ChainedRecord,
  type ChainHead,
  type ChainProblem,
  ChainVerifier,
  canonicalJson,
  computeHash,
  GENESIS_HASH,
  GENESIS_HEAD,
  type VerifyLinesResult,
  verifyLines,
} from './chain.js';
export {
  type Checkpoint,
  checkpointKeyId,
  checkpointText,
  openCheckpoint,
  parseCheckpointText,
  signCheckpoint,
} from './checkpoint.js';
export type { CheckpointOptions, LatestCheckpoint } from './checkpointer.js';
export { ANCHOR_FILE, CHECKPOINT_FILE, type ChainAnchor, logFileName } from './files.js';
export {
  DEFAULT_LIMIT,
  type DecisionFilters,
  InvalidQueryError,
  MAX_LIMIT,
  queryDecisions,
  queryRecords,
  type RecordFilters,
  type RecordPage,
} from './query.js';
export {
  type AuditClient,
  type AuditInput,
  type AuditRecord,
  type AuditRecordType,
  auditInputSchema,
  auditRecordSchema,
  type Decision,
  type DecisionInput,
  type DecisionRecord,
  type ExceptionInput,
  type Finding,
  findingSchema,
  type PolicyLoadInput,
  type PolicyRef,
  type ReviewInput,
  type TagEvent,
} from './record.js';
export { type KeyLoad, loadPublicKey, loadSigningKey } from './signing-key.js';
export {
  type CheckpointInput,
  type CheckpointReport,
  formatVerifyReport,
  type VerifyBroken,
  type VerifyOk,
  type VerifyOptions,
  type VerifyProblem,
  type VerifyReport,
  verifyLogDir,
} from './verify.js';
export {
  AuditLog,
  AuditLogClosedError,
  AuditLogCorruptError,
  type AuditLogger,
  type AuditLogOptions,
  type AuditLogStats,
  type AuditSink,
  DisabledAuditLog,
  openAuditLog,
} from './writer.js';
