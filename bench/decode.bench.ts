/**
 * Decode throughput: the charger's byte stream cut into BLE-sized notifications, through the
 * reassembler and the typed decoder, as the session does it.
 */
import { encodeFrame } from '../src/evse-master/protocol/frame.js';
import { hexToBytes } from '../src/evse-master/protocol/hex.js';
import { decodeMessage } from '../src/evse-master/protocol/message.js';
import { FrameReassembler } from '../src/evse-master/protocol/reassembler.js';
import { type Bench, type BenchSection, fmt } from './report.js';

// Captured/constructed frames from the protocol fact sheet: 3-phase status, heading, version.
const SAMPLE_FRAMES = [
  '0601003a001122334455667788ffffffffffff00040108fd064000000e620001e24057e455f00104010e0000000008fe05dc08ff057811810f02',
  '06010019001122334455667788ffffffffffff000308810f02',
  '0601003d009181102751219513ffffffffffff0106432e333235322e313132413030380000432e333235322e31313241303038000042296d480f780f02',
].map(hexToBytes);

function buildStream(frames: number): Uint8Array {
  const parts: Uint8Array[] = [];
  let total = 0;
  for (let i = 0; i < frames; i++) {
    const frame = SAMPLE_FRAMES[i % SAMPLE_FRAMES.length]!;
    parts.push(frame);
    total += frame.length;
  }
  const stream = new Uint8Array(total);
  let offset = 0;
  for (const p of parts) {
    stream.set(p, offset);
    offset += p.length;
  }
  return stream;
}

function measure(
  stream: Uint8Array,
  chunkBytes: number,
  decode: boolean,
): { mbPerS: number; framesPerS: number } {
  const reassembler = new FrameReassembler();
  let frames = 0;
  const started = process.hrtime.bigint();
  for (let offset = 0; offset < stream.length; offset += chunkBytes) {
    for (const frame of reassembler.push(stream.subarray(offset, offset + chunkBytes))) {
      frames++;
      if (decode) decodeMessage(frame, { timeZone: 'Europe/Berlin' });
    }
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { mbPerS: stream.length / seconds / 1e6, framesPerS: frames / seconds };
}

export const decodeBench: Bench = {
  name: 'decode',
  async run(): Promise<BenchSection> {
    const stream = buildStream(200_000);
    // Warm up the JIT so the figures describe steady state.
    measure(stream.subarray(0, 200_000), 100, true);
    const rows: string[][] = [['notification size', 'stage', 'MB/s', 'frames/s']];
    for (const chunk of [20, 100, 4096]) {
      const framesOnly = measure(stream, chunk, false);
      const typed = measure(stream, chunk, true);
      rows.push([`${chunk} B`, 'reassemble', fmt(framesOnly.mbPerS), fmt(framesOnly.framesPerS, 0)]);
      rows.push([`${chunk} B`, 'reassemble + decode', fmt(typed.mbPerS), fmt(typed.framesPerS, 0)]);
    }
    // Re-encoding a frame shows what the simulator and the session pay per write.
    const frame = SAMPLE_FRAMES[0]!;
    const reassembled = new FrameReassembler().push(frame)[0]!;
    const started = process.hrtime.bigint();
    const n = 200_000;
    for (let i = 0; i < n; i++) encodeFrame(reassembled);
    const encodeSeconds = Number(process.hrtime.bigint() - started) / 1e9;
    rows.push(['—', 'encode one 58-byte frame', '—', fmt(n / encodeSeconds, 0)]);
    return {
      title: 'EVSE Master decode throughput',
      method: `${(stream.length / 1e6).toFixed(1)} MB of captured frames (3-phase status, heading, version) cut into notifications of the given size, fed to FrameReassembler and decodeMessage.`,
      table: rows,
      notes: [
        'A BS20 sends well under 100 bytes per second, so even the slowest row is several orders of magnitude of headroom on a Raspberry Pi.',
      ],
    };
  },
};
