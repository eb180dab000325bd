/**
 * A whole Home Assistant path for tests: simulated BS20 → EvseSession → Bs20Charger → the extension →
 * a real MQTT connection → a broker → MqttProbe acting as Home Assistant. The charger side runs on a
 * ManualClock; MQTT traffic is awaited as events.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { ManualClock } from '../../src/core/clock.js';
import { Bs20Charger } from '../../src/evse-master/charger.js';
import { EvseSession } from '../../src/evse-master/session.js';
import {
  type ReceivedFrame,
  SimulatedBleLink,
  SimulatedBs20,
  type SimulatedBs20Options,
} from '../../src/evse-master/simulator/index.js';
import { bridgeWill } from '../../src/homeassistant/bridge-publisher.js';
import { HomeAssistantExtension, type HomeAssistantOptions } from '../../src/homeassistant/extension.js';
import { createTopics, type Topics } from '../../src/homeassistant/topics.js';
import { createLogger, type Logger } from '../../src/log.js';
import { BridgeApi } from '../../src/mqtt/bridge-api.js';
import { MqttConnection } from '../../src/mqtt/connection.js';
import type { TestBroker } from '../helpers/brokers.js';
import { MqttProbe, type ReceivedMessage } from '../helpers/mqtt-probe.js';

export const PIN = '123456';
export const TZ = 'Europe/Berlin';
export const ORIGIN = {
  name: 'chargebridge',
  sw_version: '0.1.0-test',
  support_url: 'https://example.invalid',
};

let seq = 0;

export interface RigOptions {
  sim?: SimulatedBs20Options;
  /** The configured ceiling of the charger (default 32). */
  maxCurrentA?: number;
  extension?: Partial<HomeAssistantOptions>;
  /** Reuse a data dir (stale-removal tests); default a fresh temp dir. */
  dataDir?: string;
  /** Use the same base topic and discovery prefix as an earlier rig (a second run of the daemon). */
  sameTopicsAs?: HaRig;
  /** Leave the MQTT connection unconnected (the caller connects it). */
  connectLater?: boolean;
}

export class HaRig {
  readonly clock = new ManualClock();
  readonly base: string;
  readonly prefix: string;
  readonly statusTopic: string;
  readonly topics: Topics;
  readonly sim: SimulatedBs20;
  readonly session: EvseSession;
  readonly charger: Bs20Charger;
  readonly connection: MqttConnection;
  readonly bridgeApi: BridgeApi;
  readonly ext: HomeAssistantExtension;
  readonly logger: Logger;
  /** Everything the extension logged, as JSON lines. */
  logText = '';
  probe!: MqttProbe;

  private constructor(
    readonly broker: TestBroker,
    readonly dataDir: string,
    private readonly ownDataDir: boolean,
    options: RigOptions,
  ) {
    const n = ++seq;
    this.base = options.sameTopicsAs?.base ?? `cb${n}`;
    this.prefix = options.sameTopicsAs?.prefix ?? `ha${n}`;
    this.statusTopic = `${this.prefix}/status`;
    this.topics = createTopics({ baseTopic: this.base, discoveryPrefix: this.prefix });
    const stream = new PassThrough();
    stream.on('data', (chunk: Buffer) => {
      this.logText += chunk.toString('utf8');
    });
    this.logger = createLogger({ level: 'info', destination: stream });
    const clock = this.clock;
    this.sim = new SimulatedBs20({ clock, pin: PIN, timeZone: TZ, ...options.sim });
    this.session = new EvseSession({
      transport: new SimulatedBleLink(this.sim),
      pin: PIN,
      clock,
      timeZone: TZ,
    });
    this.charger = new Bs20Charger({
      id: 'garage',
      name: 'Garage',
      session: this.session,
      maxCurrentA: options.maxCurrentA ?? 32,
      clock,
      timeZone: TZ,
    });
    this.connection = new MqttConnection({
      url: broker.url,
      clientId: `ha-test-${process.pid}-${n}`,
      will: bridgeWill(this.base),
      keepaliveS: 30,
      reconnectPeriodMs: 100,
      logger: this.logger,
    });
    this.bridgeApi = new BridgeApi({
      connection: this.connection,
      baseTopic: this.base,
      logger: this.logger,
    });
    this.ext = new HomeAssistantExtension({
      connection: this.connection,
      bridgeApi: this.bridgeApi,
      chargers: [this.charger],
      topics: { baseTopic: this.base, discoveryPrefix: this.prefix, statusTopic: this.statusTopic },
      discoveryEnabled: true,
      expireAfterS: 60,
      origin: ORIGIN,
      dataDir,
      clock,
      logger: this.logger,
      bridgeInfo: () => ({ mqtt: { base_topic: this.base } }),
      birthDelayMs: { min: 2000, max: 2000 },
      ...options.extension,
    });
  }

  /** Broker connection and probe up, probe watching every topic of this rig; extension not started. */
  static async create(broker: TestBroker, options: RigOptions = {}): Promise<HaRig> {
    const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'chargebridge-ha-')));
    const rig = new HaRig(broker, dataDir, options.dataDir === undefined, options);
    rig.probe = await rig.newProbe();
    if (!options.connectLater) await rig.connection.connect();
    return rig;
  }

  async newProbe(): Promise<MqttProbe> {
    const probe = await MqttProbe.connect(this.broker.url);
    await probe.subscribe(`${this.base}/#`);
    await probe.subscribe(`${this.prefix}/#`);
    return probe;
  }

  /** Open the charger and run the clock until it is logged in and its settings are read. */
  async chargerOnline(): Promise<void> {
    await this.charger.open();
    for (let i = 0; i < 20 && this.charger.getState().link !== 'online'; i++) await this.clock.advance(500);
    if (this.charger.getState().link !== 'online')
      throw new Error('the simulated charger did not come online');
    // Settings are read right after login; let those round trips and the throttle settle.
    await this.clock.advance(2000);
    // And let what that published reach the probe before a test counts messages.
    await this.barrier();
  }

  get deviceTopic(): string {
    return `${this.prefix}/device/chargebridge_garage/config`;
  }

  get stateTopic(): string {
    return this.topics.chargerStateTopic('garage');
  }

  get availabilityTopic(): string {
    return this.topics.chargerAvailabilityTopic('garage');
  }

  get bridgeEventTopic(): string {
    return this.topics.bridgeEventTopic();
  }

  /** Frames the simulated charger got with this command id, from index `from` on. */
  framesAt(command: number, from = 0): ReceivedFrame[] {
    return this.sim.receivedFrames.slice(from).filter((f) => f.frame.command === command);
  }

  /** The next frame the simulated charger receives with `command`. */
  nextFrame(command: number, timeoutMs = 5000): Promise<ReceivedFrame> {
    return new Promise((resolve, reject) => {
      const off = this.sim.events.on('received', (f) => {
        if (f.frame.command !== command) return;
        off();
        clearTimeout(timer);
        resolve(f);
      });
      const timer = setTimeout(() => {
        off();
        reject(
          new Error(`the simulated charger got no frame 0x${command.toString(16)} within ${timeoutMs} ms`),
        );
      }, timeoutMs);
    });
  }

  /** A message on `topic` that arrives after `mark` messages were already received. */
  waitAfter(
    mark: number,
    topic: string,
    predicate: (m: ReceivedMessage) => boolean = () => true,
    probe: MqttProbe = this.probe,
  ): Promise<ReceivedMessage> {
    return probe.waitFor(topic, (m) => probe.received.indexOf(m) >= mark && predicate(m));
  }

  /** Latest state JSON seen on the charger's state topic. */
  lastState(probe: MqttProbe = this.probe): Record<string, unknown> {
    const all = probe.on(this.stateTopic);
    const last = all[all.length - 1];
    if (!last) throw new Error('no state published yet');
    return JSON.parse(last.text) as Record<string, unknown>;
  }

  /**
   * Round trip through the extension's connection: once the answer to a bridge request arrives, every
   * message the probe published before it has been handled.
   */
  async barrier(probe: MqttProbe = this.probe): Promise<void> {
    const transaction = `barrier-${Math.random()}`;
    const response = this.topics.bridgeResponseTopic('ping');
    await probe.subscribe(response);
    await probe.publish(this.topics.bridgeRequestTopic('ping'), JSON.stringify({ transaction }));
    await probe.waitFor(response, (m) => m.text.includes(transaction));
  }

  async close(): Promise<void> {
    await this.ext.stop().catch(() => {});
    await this.charger.close().catch(() => {});
    this.sim.close();
    await this.connection.close();
    await this.probe.close();
    if (this.ownDataDir) await rm(this.dataDir, { recursive: true, force: true });
  }
}
