export * from './messages.js';
export { createProtocolServer, dispatch, routes, MAX_BODY_BYTES, type ProtocolOptions } from './server.js';
export { errorReply, errorMessage, type Reply } from './reply.js';
