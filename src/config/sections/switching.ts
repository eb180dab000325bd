/**
 * `switching:` inside a `chargers:` entry or an `ocpp_server.stations:` entry: the contactor rules
 * of core/switching-rules.ts for that charger. Unset, the block means the defaults; a key left out
 * of a written block takes its default too. Protection can only be turned off by writing 0.
 */
import { z } from 'zod';
import { DEFAULT_SWITCHING_RULES } from '../../core/switching-rules.js';
import { ruleError, wholeNumber } from '../fields.js';

const PROTECTION_RULE =
  'must be 0 (no protection: every switch is obeyed) or a whole number from 10 to 3600 (seconds)';

/** 1…9 s would look like protection without giving any; 0 says plainly that it is off. */
function protectionSeconds(defaultMs: number) {
  const error = ruleError(PROTECTION_RULE);
  return z
    .int({ error })
    .min(0, { error })
    .max(3600, { error })
    .refine((s) => s === 0 || s >= 10, { error: PROTECTION_RULE })
    .default(defaultMs / 1000);
}

export const switchingSection = z
  .strictObject({
    min_off_s: protectionSeconds(DEFAULT_SWITCHING_RULES.minOffMs),
    min_on_s: protectionSeconds(DEFAULT_SWITCHING_RULES.minOnMs),
    current_settle_ms: wholeNumber(0, 60_000, 'milliseconds').default(
      DEFAULT_SWITCHING_RULES.currentSettleMs,
    ),
  })
  .optional();
