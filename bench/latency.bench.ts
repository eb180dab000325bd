/**
 * Time from the last byte of a status notification to the typed state change in the Charger:
 * reassembler → decoder → session → Bs20Charger state, measured on the real classes.
 */
import { ManualClock } from '../src/core/clock.js';
import { Bs20Charger } from '../src/evse-master/charger.js';
import { Cmd } from '../src/evse-master/protocol/commands.js';
import { encodeFrame } from '../src/evse-master/protocol/frame.js';
import { encodeSingleAcStatus } from '../src/evse-master/protocol/messages/status.js';
import { EvseSession } from '../src/evse-master/session.js';
import { createSimulatedTransport, SimulatedBs20 } from '../src/evse-master/simulator/index.js';
import { type Bench, type BenchSection, fmt, summarise } from './report.js';

const SAMPLES = 20_000;

export const latencyBench: Bench = {
  name: 'latency',
  async run(): Promise<BenchSection> {
    const clock = new ManualClock();
    const sim = new SimulatedBs20({ clock, timeZone: 'UTC' });
    const transport = createSimulatedTransport(sim);
    const session = new EvseSession({ transport, pin: '123456', clock, timeZone: 'UTC' });
    const charger = new Bs20Charger({
      id: 'bench',
      name: 'bench',
      session,
      maxCurrentA: 16,
      clock,
      timeZone: 'UTC',
    });
    await charger.open();
    await clock.advance(5_000);
    if (!session.loggedIn) throw new Error('the bench charger did not log in');

    const serial = sim.config.serial;
    const frames = [0, 1].map((i) =>
      encodeFrame({
        keyType: 0,
        serial,
        password: new Uint8Array(6).fill(0xff),
        command: Cmd.Status,
        payload: encodeSingleAcStatus({
          lineId: 1,
          l1VoltageV: 230 + i,
          l1CurrentA: 10,
          l2VoltageV: null,
          l2CurrentA: null,
          l3VoltageV: null,
          l3CurrentA: null,
          powerW: 2300,
          energyTotalKwh: 1000,
          innerTemperatureC: 25,
          outerTemperatureC: 25,
          emergencyButton: 1,
          plugState: 4,
          outputState: 1,
          currentState: 14,
          errorBits: 0,
          errorWidthBits: 32,
        }),
      }),
    );
    const results: Record<string, number[]> = { whole: [], split: [] };
    let mark = 0n;
    let sink: number[] = [];
    charger.events.on('state', () => {
      if (mark !== 0n) sink.push(Number(process.hrtime.bigint() - mark) / 1e6);
      mark = 0n;
    });
    for (const mode of ['whole', 'split'] as const) {
      sink = results[mode]!;
      for (let i = 0; i < SAMPLES; i++) {
        const frame = frames[i % 2]!;
        if (mode === 'split') transport.events.emit('data', frame.subarray(0, 20));
        mark = process.hrtime.bigint();
        transport.events.emit('data', mode === 'split' ? frame.subarray(20) : frame);
      }
    }
    await charger.close();
    sim.close();
    const rows = [['notification', 'samples', 'p50 (ms)', 'p99 (ms)', 'max (ms)']];
    for (const [mode, values] of Object.entries(results)) {
      const s = summarise(values);
      rows.push([
        mode === 'whole'
          ? `one ${frames[0]!.length}-byte notification`
          : `20 + ${frames[0]!.length - 20} bytes`,
        String(s.n),
        fmt(s.p50, 4),
        fmt(s.p99, 4),
        fmt(s.max, 3),
      ]);
    }
    return {
      title: 'Notification to typed charger state',
      method: `A status frame whose values change every time is handed to the logged-in session as a BLE notification (whole, or split so the last chunk completes it); the clock starts at the last chunk and stops when Bs20Charger emits its new state. ${SAMPLES} samples per row.`,
      table: rows,
      notes: [
        'This path is synchronous: nothing waits on a timer or the event loop between the last byte and the state.',
      ],
    };
  },
};
