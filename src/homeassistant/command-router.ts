/**
 * `<base>/<charger>/set/<key>` → validated command → the charger, one command at a time per charger.
 * Anything that does not happen (unknown charger, unsupported key, bad payload, the charger says no)
 * is reported as a rejection: logged, published on `bridge/event`, and the state re-published so
 * Home Assistant's control snaps back. A rejected payload never reaches the charger. A command the
 * switching rules hold for later is reported as deferred (with the time), the state is re-published
 * at once so the switch shows what the charger really does, and a later failure is a rejection.
 */

import type { Charger } from '../core/charger.js';
import { ChargerCommandError } from '../core/charger.js';
import type { Clock } from '../core/clock.js';
import type { HeldResult, SwitchOutcome } from '../core/switching-rules.js';
import type { Logger } from '../log.js';
import type { PlanTarget } from './charge-plan-control.js';
import { runCommand } from './command-runner.js';
import { type CommandContext, parseCommand } from './commands.js';
import { formatLocalIso } from './local-time.js';
import type { NextSession } from './next-session.js';
import { printable } from './payload.js';
import type { Topics } from './topics.js';

/** Everything the router needs about one charger. */
export interface CommandTarget {
  charger: Charger;
  /** Keys this charger accepts now (from its capabilities). */
  keys(): readonly string[];
  /** Configured users for the `user` select. */
  users(): readonly string[];
  next: NextSession;
  /** The charge plan; absent or null when this charger has none (no session tracker). */
  plan?: PlanTarget | null;
  /** After a command went through: publish the (probably changed) state soon. */
  applied(): void;
  /** After a rejection: publish the state now, even if unchanged, so the UI snaps back. */
  snapBack(): void;
}

export interface CommandRejection {
  /** The id from the topic (may be unknown). */
  charger: string;
  key: string;
  /** The payload as printable, shortened text. */
  payload: string;
  error: string;
}

export interface CommandDeferral {
  charger: string;
  key: string;
  payload: string;
  /** Epoch ms when the latest command of its kind is carried out. */
  until: number;
  reason: string;
}

export interface CommandRouterOptions {
  topics: Topics;
  baseTopic: string;
  targets: ReadonlyMap<string, CommandTarget>;
  clock: Clock;
  logger: Logger;
  /** Publish a rejection on `bridge/event`. */
  rejected: (rejection: CommandRejection) => Promise<void>;
  /** Publish a deferral on `bridge/event`; absent: only logged. */
  deferred?: (deferral: CommandDeferral) => Promise<void>;
  /** Commands waiting per charger beyond this are refused as busy (default 8). */
  maxQueuedPerCharger?: number;
}

export class CommandRouter {
  private readonly o: CommandRouterOptions;
  private readonly log: Logger;
  private readonly base: string;
  /** Per charger: the tail of its command chain and how many commands are in it. */
  private readonly queues = new Map<string, { tail: Promise<void>; length: number }>();

  constructor(options: CommandRouterOptions) {
    this.o = options;
    this.log = options.logger.child({ component: 'ha-commands' });
    this.base = `${options.baseTopic.replace(/\/+$/, '')}/`;
  }

  /** True if `topic` is shaped like a command topic (`<base>/+/set/+`). */
  matches(topic: string): boolean {
    if (!topic.startsWith(this.base)) return false;
    const parts = topic.slice(this.base.length).split('/');
    return parts.length === 3 && parts[1] === 'set';
  }

  /**
   * Handle one message from `<base>/+/set/+`. Resolves when the command ran or was rejected; never
   * rejects (payloads come from anyone on the broker).
   */
  handle(topic: string, payload: Buffer): Promise<void> {
    try {
      return this.route(topic, payload);
    } catch (err) {
      this.log.error({ err: errorText(err), topic }, 'command handling failed');
      return Promise.resolve();
    }
  }

  /** Wait until every queued command has finished (tests, stop). */
  async idle(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.tail));
  }

  private route(topic: string, payload: Buffer): Promise<void> {
    const parts = topic.slice(this.base.length).split('/');
    const rawId = parts[0] ?? '';
    const rawKey = parts[2] ?? '';
    const parsedTopic = this.o.topics.parseChargerCommandTopic(topic);
    if (!parsedTopic) {
      return this.reject(undefined, rawId, rawKey, payload, `not a valid command topic: ${topic}`);
    }
    const { chargerId, key } = parsedTopic;
    const target = this.o.targets.get(chargerId);
    if (!target) {
      const known = [...this.o.targets.keys()].join(', ') || 'none';
      return this.reject(
        undefined,
        chargerId,
        key,
        payload,
        `unknown charger '${chargerId}' (configured: ${known})`,
      );
    }
    const context: CommandContext = {
      ceilingA: target.charger.getCurrentCeilingA(),
      users: target.users(),
      nowMs: this.o.clock.now(),
      keys: target.keys(),
    };
    const parsed = parseCommand(key, payload, context);
    if (!parsed.ok) return this.reject(target, chargerId, key, payload, parsed.error);
    const command = parsed.command;
    const queue = this.queues.get(chargerId) ?? { tail: Promise.resolve(), length: 0 };
    const limit = this.o.maxQueuedPerCharger ?? 8;
    if (queue.length >= limit) {
      // Someone floods the topic: each command may wait seconds for the charger, so do not pile up.
      return this.reject(
        target,
        chargerId,
        key,
        payload,
        `${key}: ${limit} commands are already waiting for this charger`,
      );
    }
    const run = async (): Promise<void> => {
      try {
        const outcome = await runCommand(
          target.charger,
          command,
          target.next,
          this.o.clock.now(),
          target.plan ?? null,
        );
        if (outcome?.kind === 'deferred') {
          await this.defer(target, chargerId, key, payload, outcome);
          return;
        }
        const what =
          outcome?.kind === 'withdrawn' ? 'command applied (withdrew a held start)' : 'command applied';
        this.log.info({ charger: chargerId, key, payload: printable(payload) }, what);
        target.applied();
      } catch (err) {
        const reason = err instanceof ChargerCommandError ? err.message : `command failed: ${errorText(err)}`;
        if (!(err instanceof ChargerCommandError))
          this.log.error({ err, charger: chargerId, key }, 'command threw');
        await this.reject(target, chargerId, key, payload, `${key}: ${reason}`);
      }
    };
    queue.length++;
    queue.tail = queue.tail.then(run).finally(() => {
      queue.length--;
      if (queue.length === 0 && this.queues.get(chargerId) === queue) this.queues.delete(chargerId);
    });
    this.queues.set(chargerId, queue);
    return queue.tail;
  }

  private async defer(
    target: CommandTarget,
    charger: string,
    key: string,
    payload: Buffer,
    outcome: Extract<SwitchOutcome, { kind: 'deferred' }>,
  ): Promise<void> {
    const deferral: CommandDeferral = {
      charger,
      key,
      payload: printable(payload),
      until: outcome.until,
      reason: outcome.reason,
    };
    this.log.info({ ...deferral, until: new Date(outcome.until).toISOString() }, 'command deferred');
    // The charger has not switched: Home Assistant's control must show what it really does.
    target.snapBack();
    // Follow it in the background: the queue must not wait for the window to open.
    void outcome.settled.then((result) => this.afterHold(target, deferral, payload, result));
    await this.o
      .deferred?.(deferral)
      .catch((err: unknown) =>
        this.log.warn({ err: errorText(err) }, 'could not publish the command deferral'),
      );
  }

  private async afterHold(
    target: CommandTarget,
    deferral: CommandDeferral,
    payload: Buffer,
    result: HeldResult,
  ): Promise<void> {
    if (result.kind === 'applied' || result.kind === 'unneeded') {
      target.applied();
      return;
    }
    if (result.kind !== 'failed') return; // replaced or withdrawn: a newer command speaks for it
    const at = formatLocalIso(deferral.until);
    await this.reject(
      target,
      deferral.charger,
      deferral.key,
      payload,
      `${deferral.key}: deferred until ${at}, then: ${result.error}`,
    );
  }

  private async reject(
    target: CommandTarget | undefined,
    charger: string,
    key: string,
    payload: Buffer,
    error: string,
  ): Promise<void> {
    const rejection: CommandRejection = { charger, key, payload: printable(payload), error };
    this.log.warn(rejection, 'command rejected');
    target?.snapBack();
    await this.o
      .rejected(rejection)
      .catch((err: unknown) =>
        this.log.warn({ err: errorText(err) }, 'could not publish the command rejection'),
      );
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
