/**
 * zigbee2mqtt-style request/response over MQTT: `<base>/bridge/request/<name>` is answered on
 * `<base>/bridge/response/<name>` with `{data, status, error?, transaction?}`. Payloads come from
 * anyone on the broker, so every failure becomes an error response and nothing throws.
 */
import type { z } from 'zod';
import type { Logger } from '../log.js';
import type { MqttConnection } from './connection.js';

export type Transaction = string | number;

export interface BridgeResponse {
  data: unknown;
  status: 'ok' | 'error';
  error?: string;
  transaction?: Transaction;
}

export interface BridgeRequestContext {
  /** The `transaction` the client sent, echoed in the response by BridgeApi itself. */
  clientTransaction: Transaction | undefined;
}

export type BridgeHandler<T> = (payload: T, context: BridgeRequestContext) => Promise<unknown> | unknown;

export type BridgeConnection = Pick<MqttConnection, 'publish' | 'subscribe' | 'on'>;

export interface BridgeApiOptions {
  connection: BridgeConnection;
  /** e.g. `chargebridge` */
  baseTopic: string;
  logger: Logger;
  maxRequestBytes?: number;
}

export const DEFAULT_MAX_REQUEST_BYTES = 64 * 1024;

interface Registration {
  schema: z.ZodType;
  handler: BridgeHandler<never>;
}

export class BridgeApi {
  private readonly connection: BridgeConnection;
  private readonly base: string;
  private readonly log: Logger;
  private readonly maxRequestBytes: number;
  private readonly handlers = new Map<string, Registration>();
  private stopListening: (() => void) | undefined;

  constructor(options: BridgeApiOptions) {
    this.connection = options.connection;
    this.base = options.baseTopic;
    this.log = options.logger.child({ component: 'bridge-api' });
    this.maxRequestBytes = options.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES;
  }

  /** Register `name` (e.g. `sessions/list`); the payload is validated with `schema` before the handler runs. */
  register<S extends z.ZodType>(name: string, schema: S, handler: BridgeHandler<z.output<S>>): void {
    if (this.handlers.has(name)) throw new Error(`bridge request '${name}' is already registered`);
    this.handlers.set(name, { schema, handler: handler as BridgeHandler<never> });
  }

  /** Subscribe to `<base>/bridge/request/#` and start answering. */
  async start(): Promise<void> {
    if (this.stopListening) return;
    const prefix = `${this.base}/bridge/request/`;
    this.stopListening = this.connection.on('message', (topic, payload) => {
      if (!topic.startsWith(prefix)) return;
      void this.answer(topic.slice(prefix.length), payload);
    });
    await this.connection.subscribe(`${prefix}#`);
  }

  stop(): void {
    this.stopListening?.();
    this.stopListening = undefined;
  }

  /** Publish `{type, charger, data}` on `<base>/bridge/event` (not retained). */
  async publishEvent(type: string, charger: string | null, data: unknown = {}): Promise<void> {
    const payload = JSON.stringify({ type, charger, data });
    await this.connection.publish(`${this.base}/bridge/event`, payload, { qos: 0, retain: false });
  }

  /** Run one request and build its response. Never throws. */
  async handle(name: string, payload: Buffer): Promise<BridgeResponse> {
    if (payload.length > this.maxRequestBytes) {
      return failure(`request too large (${payload.length} bytes, limit ${this.maxRequestBytes})`);
    }
    const parsed = parseRequest(payload);
    if ('error' in parsed) return failure(parsed.error);
    const { body, transaction } = parsed;
    const registration = this.handlers.get(name);
    if (!registration) return failure(`unknown request '${name}'`, transaction);
    const checked = registration.schema.safeParse(body);
    if (!checked.success) {
      return failure(`invalid request '${name}': ${describeIssues(checked.error.issues)}`, transaction);
    }
    try {
      const data = await registration.handler(checked.data as never, { clientTransaction: transaction });
      return withTransaction({ data: data ?? {}, status: 'ok' }, transaction);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      this.log.warn({ request: name, err }, 'bridge request failed');
      return failure(message || 'request failed', transaction);
    }
  }

  private async answer(name: string, payload: Buffer): Promise<void> {
    const response = await this.handle(name, payload);
    if (response.status === 'error')
      this.log.info({ request: name, error: response.error }, 'bridge request rejected');
    const topic = `${this.base}/bridge/response/${name}`;
    try {
      await this.connection.publish(topic, encodeResponse(response), { qos: 1, retain: false });
    } catch (err) {
      this.log.warn(
        { request: name, err: err instanceof Error ? err.message : String(err) },
        'could not send response',
      );
    }
  }
}

type ParsedRequest =
  | { body: Record<string, unknown>; transaction: Transaction | undefined }
  | { error: string };

function parseRequest(payload: Buffer): ParsedRequest {
  const text = payload.toString('utf8').trim();
  // An empty payload means "no parameters", which is what most clients send for list-style requests.
  if (text === '') return { body: {}, transaction: undefined };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { error: 'request payload is not valid JSON' };
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    return { error: 'request payload must be a JSON object' };
  }
  const { transaction, ...body } = json as Record<string, unknown>;
  const echoed = typeof transaction === 'string' || typeof transaction === 'number' ? transaction : undefined;
  return { body, transaction: echoed };
}

function describeIssues(issues: readonly z.core.$ZodIssue[]): string {
  return issues
    .slice(0, 5)
    .map((i) => (i.path.length > 0 ? `${i.path.join('.')}: ${i.message}` : i.message))
    .join('; ');
}

function failure(error: string, transaction?: Transaction): BridgeResponse {
  return withTransaction({ data: {}, status: 'error', error }, transaction);
}

function withTransaction(response: BridgeResponse, transaction: Transaction | undefined): BridgeResponse {
  return transaction === undefined ? response : { ...response, transaction };
}

/** A handler may return something JSON cannot encode (BigInt, a cycle): answer with an error instead. */
function encodeResponse(response: BridgeResponse): string {
  try {
    return JSON.stringify(response);
  } catch (err) {
    const error = `could not encode response: ${err instanceof Error ? err.message : String(err)}`;
    return JSON.stringify({ ...response, data: {}, status: 'error', error });
  }
}
