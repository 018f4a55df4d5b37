export { Notifier, type NotifierOptions } from './notifier.js';
export { type JsonPayload, payloadVersion, renderPayload, summariseDiff } from './payload.js';
export { parseReceivers, type Receiver, receiverSchema, receiversSchema } from './receivers.js';
