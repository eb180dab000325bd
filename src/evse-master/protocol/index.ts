/** Public API of the EVSE Master (Besen BS20) protocol codec: pure code, no I/O. */
export * from './checksum.js';
export * from './commands.js';
export * from './describe.js';
export * from './enums.js';
export * from './frame.js';
export * from './message.js';
export * from './messages/charge.js';
export * from './messages/charging-status.js';
export * from './messages/keepalive.js';
export * from './messages/login.js';
export * from './messages/password-error.js';
export { PayloadError } from './messages/payload.js';
export * from './messages/record.js';
export * from './messages/settings.js';
export * from './messages/status.js';
export * from './reassembler.js';
export * from './time.js';
