/**
 * A minimal client for driving the simulated BS20 in tests: raw frames built with the codec's
 * encoders go out, the notification stream comes back through the codec's reassembler.
 */
import { ManualClock } from '../../../src/core/clock.js';
import { Cmd } from '../../../src/evse-master/protocol/commands.js';
import {
  encodeFrame,
  type Frame,
  pinToPassword,
  serialFromString,
} from '../../../src/evse-master/protocol/frame.js';
import {
  decodeMessage,
  type EvseMessage,
  type MessageOf,
} from '../../../src/evse-master/protocol/message.js';
import {
  type ChargeStartRequestInput,
  encodeChargeStartRequest,
  encodeChargeStopRequest,
} from '../../../src/evse-master/protocol/messages/charge.js';
import { encodeHeadingResponse } from '../../../src/evse-master/protocol/messages/keepalive.js';
import { encodeLoginConfirm, encodeRequestLogin } from '../../../src/evse-master/protocol/messages/login.js';
import { FrameReassembler } from '../../../src/evse-master/protocol/reassembler.js';
import { emTimeFromUnixMs } from '../../../src/evse-master/protocol/time.js';
import {
  SimulatedBleLink,
  SimulatedBs20,
  type SimulatedBs20Options,
} from '../../../src/evse-master/simulator/index.js';

export const PIN = '123456';
export const SERIAL = '1122334455667788';
export const TZ = 'Europe/Berlin';

export interface Received {
  atMs: number;
  frame: Frame;
  message: EvseMessage;
}

export class TestClient {
  readonly received: Received[] = [];
  readonly chunks: Uint8Array[] = [];
  readonly disconnects: string[] = [];
  readonly reassembler = new FrameReassembler();

  constructor(
    readonly link: SimulatedBleLink,
    readonly clock: ManualClock,
  ) {
    link.events.on('data', (chunk) => {
      this.chunks.push(chunk);
      for (const frame of this.reassembler.push(chunk)) {
        this.received.push({ atMs: clock.now(), frame, message: decodeMessage(frame, { timeZone: TZ }) });
      }
    });
    link.events.on('disconnect', (reason) => this.disconnects.push(reason));
  }

  async send(command: number, payload: Uint8Array = new Uint8Array(0), pin = PIN): Promise<void> {
    const bytes = encodeFrame({
      keyType: 0,
      serial: serialFromString(SERIAL),
      password: pinToPassword(pin),
      command,
      payload,
    });
    await this.link.write(bytes);
    await this.clock.advance(0);
  }

  /** 0x8002 then 0x8001, as evseMQTT does. */
  async login(): Promise<void> {
    await this.send(Cmd.RequestLogin, encodeRequestLogin());
    await this.send(Cmd.LoginConfirm, encodeLoginConfirm());
  }

  async answerHeading(): Promise<void> {
    await this.send(Cmd.HeadingResponse, encodeHeadingResponse());
  }

  async startCharge(input: Partial<ChargeStartRequestInput> & { maxCurrentA: number }): Promise<void> {
    await this.send(
      Cmd.ChargeStart,
      encodeChargeStartRequest({
        lineId: 1,
        userId: 'tester',
        chargeId: '2026011512000001',
        startTime: emTimeFromUnixMs(this.clock.now(), TZ),
        ...input,
      }),
    );
  }

  async stopCharge(userId = 'tester'): Promise<void> {
    await this.send(Cmd.ChargeStop, encodeChargeStopRequest({ lineId: 1, userId }));
  }

  commands(): number[] {
    return this.received.map((r) => r.frame.command);
  }

  of<T extends EvseMessage['type']>(type: T): MessageOf<T>[] {
    return this.received.map((r) => r.message).filter((m): m is MessageOf<T> => m.type === type);
  }

  last<T extends EvseMessage['type']>(type: T): MessageOf<T> {
    const all = this.of(type);
    const last = all[all.length - 1];
    if (!last) throw new Error(`no ${type} message received (got ${this.commands().join(',')})`);
    return last;
  }

  clear(): void {
    this.received.length = 0;
    this.chunks.length = 0;
  }
}

export interface Rig {
  clock: ManualClock;
  sim: SimulatedBs20;
  link: SimulatedBleLink;
  client: TestClient;
}

/** A simulator on a ManualClock with one connected client (not logged in yet). */
export async function createRig(options: SimulatedBs20Options = {}): Promise<Rig> {
  const clock = new ManualClock();
  const sim = new SimulatedBs20({ clock, pin: PIN, serial: SERIAL, timeZone: TZ, ...options });
  const link = new SimulatedBleLink(sim);
  const client = new TestClient(link, clock);
  await link.connect();
  return { clock, sim, link, client };
}

/** Connected and logged in, traffic so far cleared. */
export async function createLoggedInRig(options: SimulatedBs20Options = {}): Promise<Rig> {
  const rig = await createRig(options);
  await rig.client.login();
  rig.client.clear();
  return rig;
}

/** Advance in heading-sized steps, answering each heading, so the session stays up. */
export async function advanceAnswering(rig: Rig, ms: number, stepMs = 1000): Promise<void> {
  let answered = rig.client.of('heading').length;
  for (let left = ms; left > 0; left -= stepMs) {
    await rig.clock.advance(Math.min(stepMs, left));
    const headings = rig.client.of('heading').length;
    if (headings > answered) {
      answered = headings;
      await rig.client.answerHeading();
    }
  }
}
