/** Public API of the EVSE Master (Besen BS20) protocol codec: pure code, no I/O. */
export * from './checksum.js';
export * from './frame.js';
export * from './reassembler.js';
