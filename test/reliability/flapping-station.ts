/**
 * An OCPP 1.6J charge point on a raw ocpp-rpc client that behaves like a real wallbox on a bad
 * link: transaction messages (Start, MeterValues, Stop) go into a queue kept while it is offline
 * and are sent one at a time, oldest first; a call whose answer never arrived (the socket dropped
 * first) is sent again after the reconnect; status is never queued, only re-sent on reconnect.
 * The test drives its car, its meter and its link faults on the shared ManualClock.
 */
import type { ManualClock } from '../../src/core/clock.js';
import { call, createRpcClient, handle, type RpcClient, RpcState } from '../../src/ocpp/rpc.js';
import type { MeterValue } from '../../src/ocpp/types.js';

type TransactionAction = 'StartTransaction' | 'MeterValues' | 'StopTransaction';

interface Queued {
  action: TransactionAction;
  payload: Record<string, unknown>;
  /** Index into `transactions`. */
  tx: number;
}

export interface StationTransaction {
  idTag: string;
  meterStart: number;
  meterStop: number | null;
  startTimestamp: string;
  /** Every transactionId the central system answered to this StartTransaction (sent more than once). */
  ids: number[];
  /** How many times the StopTransaction was answered. */
  stopAnswers: number;
}

export type ConnectorStatus = 'Available' | 'Preparing' | 'Charging' | 'Finishing';

export class FlappingStation {
  readonly transactions: StationTransaction[] = [];
  /** Times the link dropped under the station (Home Assistant should see each one). */
  drops = 0;
  /** Times a second connection replaced the first while that one was still open. */
  replacements = 0;
  /** Answered messages sent again on purpose (a station that lost track of the answer), by action. */
  readonly repeated: Record<string, number> = {};
  /** Transaction messages sent without an answer coming back (so sent again), by action. */
  readonly unanswered: Record<string, number> = {};
  private readonly queue: Queued[] = [];
  private current: RpcClient | null = null;
  /** Boot answered and status sent on the current connection: queued messages may go. */
  private ready = false;
  private booted = false;
  private pumping = false;
  private inFlight: Queued | null = null;
  private loseNextAnswer = false;
  private status: ConnectorStatus = 'Available';
  private meterWh: number;
  private charging: { since: number; powerW: number; tx: number } | null = null;
  private sampleTimer: ReturnType<ManualClock['setInterval']> | undefined;
  private readonly stopPayloads = new Map<number, Record<string, unknown>>();

  constructor(
    readonly identity: string,
    private readonly url: string,
    private readonly clock: ManualClock,
    private readonly sampleIntervalMs: number,
    meterStartWh: number,
  ) {
    this.meterWh = meterStartWh;
  }

  /** No connection, or one still being set up. */
  get online(): boolean {
    return this.current !== null;
  }

  get pending(): number {
    return this.queue.length;
  }

  /** Nothing on the wire and nothing it could send now: offline, or every call answered and the queue empty. */
  get settled(): boolean {
    return this.current === null || (this.inWire === 0 && (this.queue.length === 0 || !this.ready));
  }

  private inWire = 0;

  private async counted<T>(job: Promise<T>): Promise<T> {
    this.inWire++;
    try {
      return await job;
    } finally {
      this.inWire--;
    }
  }

  /** The lifetime register now (Wh, whole). */
  registerWh(): number {
    if (!this.charging) return this.meterWh;
    const hours = (this.clock.now() - this.charging.since) / 3_600_000;
    return this.meterWh + Math.floor(this.charging.powerW * hours);
  }

  // ---- the link -------------------------------------------------------------------------------

  /**
   * Opens a connection. With one still open, the new one replaces it (the old is left to the
   * server). `holdQueue`: the status goes out, the queue only at release() (a station that takes a
   * moment before it drains).
   */
  async connect(options: { holdQueue?: boolean } = {}): Promise<void> {
    const client = createRpcClient({
      endpoint: this.url,
      identity: this.identity,
      protocols: ['ocpp1.6'],
      reconnect: false,
      pingIntervalMs: 0,
      callTimeoutMs: 10_000,
      callConcurrency: 1,
    });
    handle(client, 'GetConfiguration', () => ({ configurationKey: [], unknownKey: [] }));
    handle(client, 'TriggerMessage', ({ params }) => {
      if (params.requestedMessage !== 'StatusNotification') return { status: 'Rejected' };
      setImmediate(() => void this.sendStatus(client).catch(() => undefined));
      return { status: 'Accepted' };
    });
    client.on('message', ((m: { message: string; outbound: boolean }) => {
      // The answer to a transaction message arrives, and the link dies before the station reads it.
      if (!m.outbound && this.loseNextAnswer && this.inFlight && m.message.startsWith('[3')) {
        this.loseNextAnswer = false;
        void client.close({ force: true }).catch(() => undefined);
      }
    }) as never);
    client.on('close', (() => {
      if (client !== this.current) return;
      this.current = null;
      this.ready = false;
      this.drops++;
    }) as never);
    const replacing = this.current !== null;
    await client.connect();
    if (replacing) this.replacements++;
    this.current = client;
    this.ready = false;
    if (!this.booted) {
      const boot = await this.counted(
        call(client, 'BootNotification', {
          chargePointVendor: 'Flaky',
          chargePointModel: 'Wallbox',
        }),
      );
      if (boot.status !== 'Accepted') throw new Error(`${this.identity}: boot ${boot.status}`);
      this.booted = true;
    }
    await this.sendStatus(client);
    if (client !== this.current || options.holdQueue) return;
    this.release();
  }

  /** Starts sending the queue on the current connection. */
  release(): void {
    if (!this.current) return;
    this.ready = true;
    this.kick();
  }

  /** The link drops under the station (cable pulled, Wi-Fi gone): no close handshake. */
  drop(): void {
    void this.current?.close({ force: true }).catch(() => undefined);
  }

  /** The next answer to a transaction message is lost: the link drops as it arrives. */
  loseAnswer(): void {
    this.loseNextAnswer = true;
  }

  async close(): Promise<void> {
    this.clock.clearInterval(this.sampleTimer);
    const client = this.current;
    this.current = null;
    await client?.close({ force: true }).catch(() => undefined);
  }

  // ---- the car --------------------------------------------------------------------------------

  plugIn(): void {
    this.setStatus('Preparing');
  }

  start(idTag: string, powerW: number): void {
    const tx = this.transactions.length;
    const startTimestamp = new Date(this.clock.now()).toISOString();
    this.transactions.push({
      idTag,
      meterStart: this.meterWh,
      meterStop: null,
      startTimestamp,
      ids: [],
      stopAnswers: 0,
    });
    this.enqueue(
      'StartTransaction',
      {
        connectorId: 1,
        idTag,
        meterStart: this.meterWh,
        timestamp: startTimestamp,
      },
      tx,
    );
    this.charging = { since: this.clock.now(), powerW, tx };
    this.sampleTimer = this.clock.setInterval(() => this.sample(), this.sampleIntervalMs);
    this.setStatus('Charging');
  }

  stop(reason: 'Local' | 'EVDisconnected'): void {
    const charging = this.charging;
    if (!charging) return;
    this.clock.clearInterval(this.sampleTimer);
    this.meterWh = this.registerWh();
    this.charging = null;
    const tx = this.transactions[charging.tx]!;
    tx.meterStop = this.meterWh;
    this.enqueue(
      'StopTransaction',
      {
        meterStop: this.meterWh,
        timestamp: new Date(this.clock.now()).toISOString(),
        reason,
      },
      charging.tx,
    );
    this.setStatus(reason === 'Local' ? 'Finishing' : 'Available');
  }

  unplug(): void {
    this.setStatus('Available');
  }

  /** Sends an already answered StartTransaction or StopTransaction once more, at the end of the queue. */
  repeatAnswered(action: 'StartTransaction' | 'StopTransaction'): boolean {
    const done = this.transactions.findLastIndex((t) =>
      action === 'StartTransaction' ? t.ids.length > 0 : t.stopAnswers > 0,
    );
    if (done < 0) return false;
    const t = this.transactions[done]!;
    const payload =
      action === 'StartTransaction'
        ? { connectorId: 1, idTag: t.idTag, meterStart: t.meterStart, timestamp: t.startTimestamp }
        : this.stopPayloads.get(done);
    if (!payload) return false;
    this.queue.push({ action, payload, tx: done });
    this.repeated[action] = (this.repeated[action] ?? 0) + 1;
    this.kick();
    return true;
  }

  /** Sends what is queued, if connected (the test calls it every step, like a station's retry timer). */
  kick(): void {
    if (!this.pumping) void this.pump();
  }

  // ---- sending --------------------------------------------------------------------------------

  private enqueue(action: TransactionAction, payload: Record<string, unknown>, tx: number): void {
    if (action === 'StopTransaction') this.stopPayloads.set(tx, payload);
    this.queue.push({ action, payload, tx });
    this.kick();
  }

  private sample(): void {
    const charging = this.charging;
    if (!charging) return;
    const meterValue: MeterValue = {
      timestamp: new Date(this.clock.now()).toISOString(),
      sampledValue: [
        {
          value: String(this.registerWh()),
          measurand: 'Energy.Active.Import.Register',
          unit: 'Wh',
          context: 'Sample.Periodic',
        },
        { value: String(charging.powerW), measurand: 'Power.Active.Import', unit: 'W' },
      ],
    };
    this.enqueue('MeterValues', { connectorId: 1, meterValue: [meterValue] }, charging.tx);
  }

  private setStatus(status: ConnectorStatus): void {
    this.status = status;
    const client = this.current;
    if (client && this.ready) void this.sendStatus(client).catch(() => undefined);
  }

  private async sendStatus(client: RpcClient): Promise<void> {
    await this.counted(
      call(client, 'StatusNotification', {
        connectorId: 1,
        errorCode: 'NoError',
        status: this.status,
        timestamp: new Date(this.clock.now()).toISOString(),
      }),
    );
  }

  private async pump(): Promise<void> {
    this.pumping = true;
    try {
      for (;;) {
        const client = this.current;
        const entry = this.queue[0];
        if (!entry || !client || !this.ready || client.state !== RpcState.OPEN) return;
        const tx = this.transactions[entry.tx]!;
        const transactionId = tx.ids[0];
        if (entry.action !== 'StartTransaction' && transactionId === undefined) {
          throw new Error(`${this.identity}: ${entry.action} before its transaction has an id`);
        }
        const payload =
          entry.action === 'StartTransaction' ? entry.payload : { ...entry.payload, transactionId };
        this.inFlight = entry;
        let answer: Record<string, unknown>;
        try {
          answer = (await this.counted(call(client, entry.action, payload as never))) as Record<
            string,
            unknown
          >;
        } catch {
          // No answer: the entry stays at the head and goes again on the next connection.
          this.unanswered[entry.action] = (this.unanswered[entry.action] ?? 0) + 1;
          if (client === this.current && client.state === RpcState.OPEN) return;
          continue;
        } finally {
          this.inFlight = null;
        }
        if (entry.action === 'StartTransaction') tx.ids.push(Number(answer.transactionId));
        if (entry.action === 'StopTransaction') tx.stopAnswers++;
        this.queue.shift();
      }
    } finally {
      this.pumping = false;
    }
  }
}
