/**
 * The charge-plan inputs of every charger, kept across restarts in `<data_dir>/charge-plans.json`.
 * Written with the sessions' DurableJsonFile (temp file + fsync + rename, last good copy as `.bak`);
 * a bad file is moved aside and the backup used. A file we cannot read or write is logged, and the
 * inputs stay in memory: losing a battery size is an annoyance, not a reason to stop.
 */
import { join } from 'node:path';
import { z } from 'zod';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../log.js';
import { DurableJsonFile } from '../sessions/durable-adapter.js';
import { type ChargePlanInputs, EMPTY_PLAN_INPUTS } from './charge-plan.js';
import { PLAN_BATTERY_MAX_KWH, PLAN_BATTERY_MIN_KWH } from './plan-entities.js';

export const CHARGE_PLAN_FILE_NAME = 'charge-plans.json';

const FORMAT = 'chargebridge-charge-plans';

const percent = z.number().min(0).max(100).nullable();

const inputsSchema = z.object({
  battery_kwh: z.number().min(PLAN_BATTERY_MIN_KWH).max(PLAN_BATTERY_MAX_KWH).nullable(),
  soc_now_percent: percent,
  soc_target_percent: percent,
  /** UTC ISO 8601: readable in the file, no time-zone guessing when read back. */
  deadline: z.iso.datetime().nullable(),
});

const fileSchema = z.object({
  format: z.literal(FORMAT),
  version: z.literal(1),
  chargers: z.record(z.string().min(1), inputsSchema),
});

type PlanFile = z.infer<typeof fileSchema>;
type StoredInputs = z.infer<typeof inputsSchema>;

export interface ChargePlanStoreOptions {
  dataDir: string;
  clock: Clock;
  logger: Logger;
}

export class ChargePlanStore {
  readonly path: string;
  private readonly file: DurableJsonFile<PlanFile>;
  private readonly log: Logger;
  private readonly inputs = new Map<string, ChargePlanInputs>();
  private lastWrite: Promise<void> = Promise.resolve();

  constructor(options: ChargePlanStoreOptions) {
    this.path = join(options.dataDir, CHARGE_PLAN_FILE_NAME);
    this.log = options.logger;
    this.file = new DurableJsonFile({
      path: this.path,
      schema: fileSchema,
      clock: options.clock,
      logger: options.logger,
    });
  }

  /** Read the file (missing → nothing set). Never throws. */
  async load(): Promise<void> {
    let data: PlanFile | null;
    try {
      data = await this.file.read();
    } catch (err) {
      this.log.warn(
        { file: this.path, err: errorText(err) },
        'cannot read the charge-plan inputs; starting with none set',
      );
      return;
    }
    this.inputs.clear();
    for (const [chargerId, stored] of Object.entries(data?.chargers ?? {})) {
      this.inputs.set(chargerId, fromStored(stored));
    }
  }

  get(chargerId: string): ChargePlanInputs {
    return this.inputs.get(chargerId) ?? EMPTY_PLAN_INPUTS;
  }

  /** Keep the inputs of one charger; written to disk in the background. */
  set(chargerId: string, inputs: ChargePlanInputs): void {
    this.inputs.set(chargerId, { ...inputs });
    const body: PlanFile = { format: FORMAT, version: 1, chargers: {} };
    for (const id of [...this.inputs.keys()].sort()) body.chargers[id] = toStored(this.get(id));
    // DurableJsonFile coalesces queued writes, so the newest promise settles after the newest data.
    this.lastWrite = this.file.write(body).catch((err: unknown) => {
      this.log.warn(
        { file: this.path, err: errorText(err) },
        'could not save the charge-plan inputs; they are kept in memory and saved at the next change',
      );
    });
  }

  /** Wait until everything set so far is on disk (or its write failed and was logged). */
  async flush(): Promise<void> {
    await this.lastWrite;
  }
}

function toStored(inputs: ChargePlanInputs): StoredInputs {
  return {
    battery_kwh: inputs.batteryKwh,
    soc_now_percent: inputs.socNowPercent,
    soc_target_percent: inputs.socTargetPercent,
    deadline: inputs.deadlineAt === null ? null : new Date(inputs.deadlineAt).toISOString(),
  };
}

function fromStored(stored: StoredInputs): ChargePlanInputs {
  return {
    batteryKwh: stored.battery_kwh,
    socNowPercent: stored.soc_now_percent,
    socTargetPercent: stored.soc_target_percent,
    deadlineAt: stored.deadline === null ? null : Date.parse(stored.deadline),
  };
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
