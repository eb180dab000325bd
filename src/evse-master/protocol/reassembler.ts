/**
 * Turns the charger's byte stream (BLE notifications cut anywhere, several frames per notification)
 * back into frames, following §1.4: find `06 01`, check the length is plausible, wait for the whole
 * frame, verify tail and checksum; on any failure drop one byte and rescan, since `06 01` also occurs
 * inside payloads.
 */
import { checksumMatches } from './checksum.js';
import { type Frame, frameFromVerifiedBytes, MAX_FRAME_LENGTH, MIN_FRAME_LENGTH } from './frame.js';

/** Big chunks are consumed this many bytes at a time, so the buffer never has to grow. */
const SLICE_BYTES = 4096;

export interface FrameReassemblerOptions {
  /**
   * Most bytes kept between pushes while waiting for the rest of a frame (default MAX_FRAME_LENGTH).
   * A length header above this (or above MAX_FRAME_LENGTH) is treated as junk.
   */
  maxBufferBytes?: number;
}

export interface ReassemblerStats {
  /** Frames emitted. */
  frames: number;
  /** Bytes thrown away: junk before a header, false headers, broken frames, reset(). */
  discardedBytes: number;
  /** Candidates with a plausible length whose tail or checksum was wrong. */
  badFrames: number;
}

export class FrameReassembler {
  readonly stats: ReassemblerStats = { frames: 0, discardedBytes: 0, badFrames: 0 };
  private readonly maxFrameLength: number;
  private readonly buffer: Uint8Array;
  private start = 0;
  private end = 0;

  constructor(options: FrameReassemblerOptions = {}) {
    const maxBufferBytes = options.maxBufferBytes ?? MAX_FRAME_LENGTH;
    if (!Number.isInteger(maxBufferBytes) || maxBufferBytes < MIN_FRAME_LENGTH) {
      throw new RangeError(`maxBufferBytes must be an integer >= ${MIN_FRAME_LENGTH}, got ${maxBufferBytes}`);
    }
    this.maxFrameLength = Math.min(maxBufferBytes, MAX_FRAME_LENGTH);
    // Between pushes fewer than maxFrameLength bytes are held, so one slice always fits after compaction.
    this.buffer = new Uint8Array(this.maxFrameLength + SLICE_BYTES);
  }

  /** Bytes held while waiting for the rest of a frame. */
  get bufferedBytes(): number {
    return this.end - this.start;
  }

  /** Feeds one chunk of the stream; returns the frames it completed, in order. */
  push(chunk: Uint8Array): Frame[] {
    const frames: Frame[] = [];
    for (let offset = 0; offset < chunk.length; offset += SLICE_BYTES) {
      this.append(chunk.subarray(offset, offset + SLICE_BYTES));
      this.extract(frames);
    }
    return frames;
  }

  /** Forgets buffered bytes (on (re)connect); they count as discarded. */
  reset(): void {
    this.stats.discardedBytes += this.end - this.start;
    this.start = 0;
    this.end = 0;
  }

  private append(slice: Uint8Array): void {
    if (this.end + slice.length > this.buffer.length) {
      this.buffer.copyWithin(0, this.start, this.end);
      this.end -= this.start;
      this.start = 0;
    }
    this.buffer.set(slice, this.end);
    this.end += slice.length;
  }

  private discard(count: number): void {
    this.start += count;
    this.stats.discardedBytes += count;
  }

  private extract(frames: Frame[]): void {
    const end = this.end;
    // A view ending at `end`, so the native indexOf never looks at stale bytes.
    const buf = this.buffer.subarray(0, end);
    for (;;) {
      let i = buf.indexOf(0x06, this.start);
      while (i !== -1 && i < end - 1 && buf[i + 1] !== 0x01) i = buf.indexOf(0x06, i + 1);
      if (i === -1 || i >= end - 1) {
        // No header: keep a trailing 06, the next chunk may start with 01.
        const keep = end > this.start && buf[end - 1] === 0x06 ? 1 : 0;
        this.discard(end - keep - this.start);
        break;
      }
      this.discard(i - this.start);
      const s = this.start;
      if (end - s < 4) break;
      const length = (buf[s + 2]! << 8) | buf[s + 3]!;
      if (length < MIN_FRAME_LENGTH || length > this.maxFrameLength) {
        this.discard(1);
        continue;
      }
      if (end - s < length) break;
      const stored = (buf[s + length - 4]! << 8) | buf[s + length - 3]!;
      const valid =
        buf[s + length - 2] === 0x0f &&
        buf[s + length - 1] === 0x02 &&
        checksumMatches(stored, buf.subarray(s, s + length), length - 4);
      if (!valid) {
        this.stats.badFrames++;
        this.discard(1);
        continue;
      }
      frames.push(frameFromVerifiedBytes(buf, s, length));
      this.stats.frames++;
      this.start = s + length;
    }
    if (this.start === this.end) {
      this.start = 0;
      this.end = 0;
    }
  }
}
