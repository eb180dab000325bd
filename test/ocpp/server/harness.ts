/**
 * A central system on loopback for tests: random port, temp data dir, a frame log that checks every
 * frame we send against typed-ocpp's 1.6 schemas, and event-based waits (no sleeps).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OCPP16 } from 'typed-ocpp';
import type { ChargerState } from '../../../src/core/charger.js';
import { ManualClock } from '../../../src/core/clock.js';
import { type Logger, silentLogger } from '../../../src/log.js';
import { createUserAuthorizer, type UserTags } from '../../../src/ocpp/server/authorizer.js';
import { type CentralSystemOptions, OcppCentralSystem } from '../../../src/ocpp/server/central-system.js';
import type { OcppStationCharger } from '../../../src/ocpp/server/station-charger.js';
import type { StationConfig } from '../../../src/ocpp/server/station-config.js';
import { TransactionLedger } from '../../../src/ocpp/server/transactions.js';

export const USERS: UserTags[] = [
  { name: 'alice', idTags: ['04A1B2C3'] },
  { name: 'bob', idTags: ['BOBCARD'] },
];

export function stationConfig(id: string, overrides: Partial<StationConfig> = {}): StationConfig {
  return {
    id,
    identity: id.toUpperCase(),
    name: `Station ${id}`,
    password: null,
    maxCurrentA: 32,
    phases: null,
    connectors: 1,
    pingIntervalS: null,
    ...overrides,
  };
}

export interface RigOptions
  extends Partial<Omit<CentralSystemOptions, 'ledger' | 'authorizer' | 'clock' | 'logger'>> {
  users?: UserTags[];
  dataDir?: string;
  /** Default: silent. */
  logger?: Logger;
}

export class FrameLog {
  readonly frames: Array<{ identity: string; outbound: boolean; message: string }> = [];
  /** Every frame we sent that typed-ocpp does not accept, with the reason. */
  problems(): string[] {
    const inboundCalls = new Map<string, OCPP16.Call>();
    const problems: string[] = [];
    for (const f of this.frames) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(f.message);
      } catch {
        if (f.outbound) problems.push(`not JSON: ${f.message}`);
        continue;
      }
      if (!Array.isArray(parsed)) continue;
      if (!f.outbound) {
        if (parsed[0] === 2 && OCPP16.validateCall(parsed))
          inboundCalls.set(`${f.identity}/${parsed[1]}`, parsed);
        continue;
      }
      if (parsed[0] === 2 && !OCPP16.validateCall(parsed)) {
        problems.push(`${f.message}: ${JSON.stringify(OCPP16.validateCall.errors)}`);
      } else if (parsed[0] === 3) {
        const call = inboundCalls.get(`${f.identity}/${parsed[1]}`);
        if (!OCPP16.validateCallResult(parsed)) problems.push(`${f.message}: not a CALLRESULT`);
        else if (call && !OCPP16.checkCallResult(parsed, call)) {
          problems.push(`${f.message} (for ${call[2]}): ${JSON.stringify(OCPP16.checkCallResult.errors)}`);
        }
      } else if (parsed[0] === 4 && !OCPP16.validateCallError(parsed)) {
        problems.push(`${f.message}: ${JSON.stringify(OCPP16.validateCallError.errors)}`);
      }
    }
    return problems;
  }

  /** Outbound CALLs of one action, payloads only. */
  sentCalls(action: string): unknown[] {
    return this.frames
      .filter((f) => f.outbound)
      .map((f) => JSON.parse(f.message) as unknown[])
      .filter((m) => m[0] === 2 && m[2] === action)
      .map((m) => m[3]);
  }
}

export class CsRig {
  readonly frames = new FrameLog();
  private constructor(
    readonly cs: OcppCentralSystem,
    readonly ledger: TransactionLedger,
    readonly clock: ManualClock,
    readonly dataDir: string,
    private readonly ownDir: boolean,
  ) {}

  static async start(options: RigOptions = {}): Promise<CsRig> {
    const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'cb-ocpp-')));
    const clock = new ManualClock(Date.UTC(2026, 2, 10, 18, 0, 0));
    const logger = options.logger ?? silentLogger();
    const ledger = await TransactionLedger.open({
      path: join(dataDir, 'ocpp-transactions.json'),
      clock,
      logger,
    });
    const cs = new OcppCentralSystem({
      host: '127.0.0.1',
      port: 0,
      path: '/ocpp',
      securityProfile: 0,
      unknownStations: 'reject',
      stations: [stationConfig('garage')],
      heartbeatIntervalS: 300,
      pingIntervalS: 0,
      callTimeoutS: 5,
      ...options,
      ledger,
      authorizer: createUserAuthorizer({
        users: options.users ?? USERS,
        defaultIdTag: 'chargebridge',
        acceptUnknown: false,
      }),
      clock,
      logger,
    });
    const rig = new CsRig(cs, ledger, clock, dataDir, options.dataDir === undefined);
    cs.events.on('frame', (f) => rig.frames.frames.push(f));
    await cs.start();
    return rig;
  }

  get url(): string {
    return `ws://127.0.0.1:${this.cs.port}/ocpp`;
  }

  charger(id = 'garage'): OcppStationCharger {
    const charger = this.cs.chargers().find((c) => c.id === id);
    if (!charger) throw new Error(`no charger ${id}`);
    return charger;
  }

  async stop(): Promise<void> {
    await this.cs.stop();
    if (this.ownDir) await rm(this.dataDir, { recursive: true, force: true });
  }
}

/** Resolves when the charger's state satisfies `predicate` (now or on a later state event). */
export function untilState(
  charger: OcppStationCharger,
  predicate: (s: ChargerState) => boolean,
  what = 'state',
  timeoutMs = 5000,
): Promise<ChargerState> {
  if (predicate(charger.getState())) return Promise.resolve(charger.getState());
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(
        new Error(
          `charger ${charger.id} never reached ${what}; last state ${JSON.stringify(charger.getState())}`,
        ),
      );
    }, timeoutMs);
    const off = charger.events.on('state', (s) => {
      if (!predicate(s)) return;
      clearTimeout(timer);
      off();
      resolve(s);
    });
  });
}

/** A free TCP port on loopback (for configs that cannot say "any port"). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (!address || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/**
 * Waits for `condition`, letting socket I/O run between checks and moving a ManualClock by
 * `stepMs` each turn (for code that waits on timers). Gives up after `maxTurns`.
 */
export async function eventually(
  condition: () => boolean,
  what: string,
  options: { clock?: ManualClock; stepMs?: number; maxTurns?: number } = {},
): Promise<void> {
  const maxTurns = options.maxTurns ?? 2000;
  for (let turn = 0; !condition(); turn++) {
    if (turn >= maxTurns) throw new Error(`gave up waiting for ${what}`);
    if (options.clock) await options.clock.advance(options.stepMs ?? 100);
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

/** A promise and its resolver, for "the peer received X" hooks. */
export function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}
