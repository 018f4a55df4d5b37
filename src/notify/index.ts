export {
  CHECKPOINT_EVENT,
  CheckpointPublisher,
  type CheckpointPublisherOptions,
} from './checkpoint-publisher.js';
export { Notifier, type NotifierOptions } from './notifier.js';
export {
  type CheckpointEvent,
  type CheckpointPayload,
  type JsonPayload,
  payloadVersion,
  renderCheckpointPayload,
  renderPayload,
  summariseDiff,
} from './payload.js';
export { parseReceivers, type Receiver, receiverSchema, receiversSchema } from './receivers.js';
