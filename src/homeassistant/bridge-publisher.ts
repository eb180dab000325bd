/**
 * The bridge's own topics: `<base>/bridge/state` (also the last will), the retained `bridge/info`,
 * and the `log_level`, `restart` and `store_problems/clear` requests behind the bridge device's controls.
 */
import { z } from 'zod';
import type { Charger } from '../core/charger.js';
import type { StoreProblems } from '../core/store-problems.js';
import type { Logger } from '../log.js';
import type { BridgeApi } from '../mqtt/bridge-api.js';
import type { MqttConnectionOptions } from '../mqtt/connection.js';
import { RetainedPublisher } from '../mqtt/retained-publisher.js';
import { bridgeInfoToJson, bridgeStatePayload } from './bridge.js';
import type { PublishConnection } from './charger-publisher.js';
import { LOG_LEVELS } from './enums.js';
import { createTopics, type Topics } from './topics.js';

export type LogLevel = (typeof LOG_LEVELS)[number];

/** The last will the daemon gives its MQTT connection: `{"state":"offline"}` on `<base>/bridge/state`. */
export function bridgeWill(baseTopic: string): MqttConnectionOptions['will'] {
  const topics = createTopics({ baseTopic, discoveryPrefix: 'unused' });
  return { topic: topics.bridgeStateTopic(), payload: bridgeStatePayload(false), retain: true, qos: 1 };
}

export interface BridgePublisherOptions {
  connection: PublishConnection;
  topics: Topics;
  bridgeApi: Pick<BridgeApi, 'register'>;
  chargers: readonly Charger[];
  version: string;
  /** Configuration summary without secrets. */
  configSummary: () => Record<string, unknown>;
  getLogLevel: () => string;
  setLogLevel: (level: LogLevel) => void;
  /** Absent: the restart request answers with an error. */
  onRestartRequest?: () => void | Promise<void>;
  /** Why a restart would fail now (the configuration file has errors); null: go ahead. */
  restartProblem?: () => string | null;
  /** Shown in `bridge/info` (the bridge's problem sensor) until resolved or cleared. */
  storeProblems?: StoreProblems;
  logger: Logger;
}

export class BridgePublisher {
  private readonly o: BridgePublisherOptions;
  private readonly retained: RetainedPublisher;
  private readonly log: Logger;
  private registered = false;

  constructor(options: BridgePublisherOptions) {
    this.o = options;
    this.retained = new RetainedPublisher(options.connection);
    this.log = options.logger;
    options.storeProblems?.events.on('changed', () => {
      this.publishInfo().catch((err: unknown) =>
        this.log.warn({ err: errorText(err) }, 'could not publish bridge info'),
      );
    });
  }

  /** Answer `bridge/request/log_level` and `bridge/request/restart` (once per BridgeApi). */
  registerRequests(): void {
    if (this.registered) return;
    this.registered = true;
    this.o.bridgeApi.register('log_level', z.object({ value: z.enum(LOG_LEVELS) }), ({ value }) => {
      this.o.setLogLevel(value);
      this.log.info({ logLevel: value }, 'log level changed');
      this.publishInfo().catch(() => {});
      return { value };
    });
    this.o.bridgeApi.register('restart', z.object({}), async () => {
      const restart = this.o.onRestartRequest;
      if (!restart) throw new Error('restart is not available in this setup');
      const problem = this.o.restartProblem?.() ?? null;
      if (problem !== null)
        throw new Error(`not restarting, the configuration file has errors (fix them first): ${problem}`);
      this.log.info('restart requested over MQTT');
      // Answer first; the restart itself may close the connection the answer travels on.
      setImmediate(() => {
        Promise.resolve()
          .then(restart)
          .catch((err: unknown) => this.log.error({ err: errorText(err) }, 'restart failed'));
      });
      return {};
    });
    // Corrupt files stay listed until the user has looked (the bad copy is kept as *.corrupt-*).
    this.o.bridgeApi.register('store_problems/clear', z.object({}), () => {
      const cleared = this.o.storeProblems?.resolve(() => true) ?? 0;
      this.log.info({ cleared }, 'store problems cleared');
      return { cleared };
    });
  }

  async publishOnline(): Promise<void> {
    await this.retained.publish(this.o.topics.bridgeStateTopic(), bridgeStatePayload(true));
  }

  async publishOffline(): Promise<void> {
    await this.retained.publish(this.o.topics.bridgeStateTopic(), bridgeStatePayload(false));
  }

  /** The retained `bridge/info`; sent only when it changed (chargers online, log level…). */
  async publishInfo(): Promise<void> {
    const info = bridgeInfoToJson({
      version: this.o.version,
      logLevel: this.o.getLogLevel(),
      chargers: this.o.chargers.map((c) => ({
        id: c.id,
        name: c.name,
        kind: c.kind,
        online: c.getState().link === 'online',
      })),
      config: this.o.configSummary(),
      storeProblems: this.o.storeProblems?.list() ?? [],
    });
    await this.retained.publish(this.o.topics.bridgeInfoTopic(), JSON.stringify(info));
  }

  /** Home Assistant restarted: the next publishes go out even if unchanged. */
  forgetAll(): void {
    this.retained.forgetAll();
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
