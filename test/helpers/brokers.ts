/**
 * The brokers every MQTT-facing suite runs against: our embedded aedes and a real Mosquitto.
 *
 *   describeEach(brokers)('$name', (kind) => {
 *     let broker: TestBroker;
 *     beforeAll(async () => { broker = await kind.start(); });
 *     afterAll(() => broker.stop());
 *   });
 */
import { silentLogger } from '../../src/log.js';
import { type EmbeddedBroker, startEmbeddedBroker } from '../../src/mqtt/embedded-broker.js';
import { startMosquitto } from './mosquitto.js';
import type { SystemProgram } from './system-programs.js';

export interface TestBrokerOptions {
  /** Require this user/password; anonymous clients are refused. */
  username?: string;
  password?: string;
}

export interface TestBroker {
  readonly url: string;
  readonly port: number;
  /** Stop the broker and start it again on the same port; clients see their connection drop. */
  restart(): Promise<void>;
  /** Stop for good and clean up. */
  stop(): Promise<void>;
}

export interface BrokerKind {
  readonly name: string;
  /** A system program it needs: describeEach (system-programs.ts) skips this broker's suite without it. */
  readonly needs?: SystemProgram;
  start(options?: TestBrokerOptions): Promise<TestBroker>;
}

export const embeddedBroker: BrokerKind = {
  name: 'aedes (embedded)',
  async start(options = {}) {
    const logger = silentLogger();
    // As Mosquitto is started: the one login when given (anonymous refused), else open to all.
    const access =
      options.username !== undefined
        ? {
            accounts: [{ username: options.username, password: options.password ?? '' }],
            allowAnonymous: false,
          }
        : { allowAnonymous: true };
    let current: EmbeddedBroker = await startEmbeddedBroker({
      host: '127.0.0.1',
      port: 0,
      logger,
      ...access,
    });
    const port = current.port;
    return {
      url: `mqtt://127.0.0.1:${port}`,
      port,
      restart: async () => {
        await current.close();
        current = await startEmbeddedBroker({ host: '127.0.0.1', port, logger, ...access });
      },
      stop: () => current.close(),
    };
  },
};

export const mosquittoBroker: BrokerKind = {
  name: 'mosquitto',
  needs: 'mosquitto',
  async start(options = {}) {
    const mosquitto = await startMosquitto(options);
    return {
      url: mosquitto.url,
      port: mosquitto.port,
      restart: () => mosquitto.restart(),
      stop: () => mosquitto.dispose(),
    };
  },
};

export const brokers: readonly BrokerKind[] = [embeddedBroker, mosquittoBroker];
