/**
 * The whole stack under a charge-point test: the simulated BS20 speaking real EVSE Master bytes,
 * the real EvseSession and Bs20Charger, and the ChargePointBridge on top, talking over a real
 * loopback websocket to a central system. Time is a ManualClock; only socket I/O is real, and the
 * tests wait for it with `waitFor` (event-loop turns, no sleeping).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../../src/core/clock.js';
import { Bs20Charger } from '../../../src/evse-master/charger.js';
import { SettingAction } from '../../../src/evse-master/protocol/commands.js';
import { EvseSession } from '../../../src/evse-master/session.js';
import { createSimulatedTransport, SimulatedBs20 } from '../../../src/evse-master/simulator/index.js';
import { silentLogger } from '../../../src/log.js';
import { ChargePointBridge, type OcppUpstreamSettings } from '../../../src/ocpp/client/charge-point.js';
import { FrameLog } from './frames.js';

export const TZ = 'Europe/Berlin';
export const MINUTE = 60_000;

export interface RigOptions {
  url: string;
  settings?: Partial<OcppUpstreamSettings>;
  /** Reuse a data folder (daemon restart). */
  dataDir?: string;
  world?: World;
}

/** The physical side that outlives a daemon restart: clock, charger, data folder. */
export interface World {
  clock: ManualClock;
  sim: SimulatedBs20;
  dataDir: string;
}

export function makeWorld(): World {
  const clock = new ManualClock(Date.UTC(2026, 0, 15, 11, 0, 0));
  const sim = new SimulatedBs20({ clock, timeZone: TZ, recordReplayIntervalMs: 0 });
  return { clock, sim, dataDir: mkdtempSync(join(tmpdir(), 'cb-ocpp-client-')) };
}

/** The charge point settings every client test starts from (one BS20, profile 0, no pings). */
export function bridgeSettings(url: string) {
  return {
    url,
    stationId: 'BS20-GARAGE',
    securityProfile: 0 as const,
    password: undefined,
    passwordEncoding: 'auto' as const,
    tls: undefined,
    idTag: 'HOME',
    meterValueSampleIntervalS: 60,
    heartbeatIntervalS: 300,
    pingIntervalS: 0,
    callTimeoutS: 600,
    reconnectMaxDelayS: 30,
  };
}

export class Rig {
  readonly frames = new FrameLog();
  readonly charger: Bs20Charger;
  readonly session: EvseSession;
  bridge!: ChargePointBridge;

  constructor(
    readonly world: World,
    private readonly options: RigOptions,
  ) {
    this.session = new EvseSession({
      transport: createSimulatedTransport(world.sim),
      pin: '123456',
      clock: world.clock,
      timeZone: TZ,
    });
    this.charger = new Bs20Charger({
      id: 'garage',
      name: 'Garage',
      session: this.session,
      maxCurrentA: 16,
      clock: world.clock,
      timeZone: TZ,
    });
  }

  get clock(): ManualClock {
    return this.world.clock;
  }

  get sim(): SimulatedBs20 {
    return this.world.sim;
  }

  /** Logs in to the BS20, then starts the bridge (it connects and boots). */
  async start(): Promise<void> {
    await this.charger.open();
    await this.clock.advance(5_000);
    this.bridge = await ChargePointBridge.open({
      charger: this.charger,
      settings: { ...bridgeSettings(this.options.url), ...this.options.settings },
      dataDir: this.world.dataDir,
      timeZone: TZ,
      clock: this.clock,
      logger: silentLogger(),
      onFrame: this.frames.onFrame,
    });
    this.bridge.start();
  }

  /** The daemon goes away (clean stop of the bridge and the BLE link). */
  async stop(): Promise<void> {
    await this.bridge?.stop();
    await this.charger.close();
  }

  /** 0x8107 SET frames the BS20 received: [clock ms, amps]. */
  currentSets(): Array<[number, number | null]> {
    const sets: Array<[number, number | null]> = [];
    for (const f of this.sim.receivedFrames) {
      if (f.message.type === 'max_current_request' && f.message.action === SettingAction.Set) {
        sets.push([f.atMs, f.message.currentA]);
      }
    }
    return sets;
  }
}

export async function makeRig(options: RigOptions): Promise<Rig> {
  const rig = new Rig(options.world ?? makeWorld(), options);
  await rig.start();
  return rig;
}

export function cleanupWorld(world: World): void {
  world.sim.close();
  rmSync(world.dataDir, { recursive: true, force: true });
}

/**
 * Lets real I/O happen until `cond` holds (event-loop turns, no timers), for at most `timeoutMs` of
 * real time (a loaded machine may take a while to fsync). With `clock`, the manual clock also moves
 * `stepMs` per turn (reconnect backoff, boot retries), for at most `maxTurns` turns.
 */
export async function waitFor(
  cond: () => boolean,
  what: string,
  options: { clock?: ManualClock; stepMs?: number; maxTurns?: number; timeoutMs?: number } = {},
): Promise<void> {
  const deadline = Date.now() + (options.timeoutMs ?? 15_000);
  const maxTurns = options.maxTurns ?? 5_000;
  for (let turn = 0; !cond(); turn++) {
    if (Date.now() > deadline || (options.clock && turn >= maxTurns))
      throw new Error(`gave up waiting for ${what}`);
    if (options.clock) await options.clock.advance(options.stepMs ?? 1_000);
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

/** Lets `n` event-loop turns pass (socket I/O that would happen does), without moving the clock. */
export async function turns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}
