/**
 * Readers for the values inside command payloads (numbers typed into a number entity, date/times from
 * a datetime or text entity), shared by the charger commands and the charge-plan commands. Each one
 * adds a readable zod issue and returns z.NEVER instead of throwing.
 */
import { z } from 'zod';
import { parseDateTime } from './local-time.js';
import { parseDecimal, quote } from './payload.js';

export type Ctx = z.RefinementCtx;

/** Words that clear a date/time field (HA's text entity sends '' for an emptied field). */
export const CLEAR_WORDS = ['', 'none', 'off', 'cancel', 'clear'];

export function fail(ctx: Ctx, message: string): never {
  ctx.addIssue({ code: 'custom', message });
  return z.NEVER;
}

export interface NumberSpec {
  unit: string;
  min: number;
  max: number;
  maxDecimals: number;
  /** How the maximum is named in the message ("the maximum", "this charger's maximum"). */
  maxLabel: string;
  example: string;
}

/** A number in [min, max] with at most `maxDecimals` decimals, as typed by HA's number entity. */
export function readNumber(text: string, ctx: Ctx, spec: NumberSpec): number {
  if (text === '') return fail(ctx, `expected a number of ${spec.unit}, got an empty payload`);
  const parsed = parseDecimal(text);
  if (parsed === null) return fail(ctx, `expected a number like ${spec.example}, got ${quote(text)}`);
  const shown = `${parsed.value} ${spec.unit}`;
  if (parsed.decimals > spec.maxDecimals) {
    return fail(
      ctx,
      spec.maxDecimals === 0
        ? `${shown} is not a whole number of ${spec.unit}`
        : `${shown} is more precise than ${10 ** -spec.maxDecimals} ${spec.unit}`,
    );
  }
  if (parsed.value < spec.min) return fail(ctx, `${shown} is below the minimum of ${spec.min} ${spec.unit}`);
  if (parsed.value > spec.max)
    return fail(ctx, `${shown} is above ${spec.maxLabel} of ${spec.max} ${spec.unit}`);
  return parsed.value;
}

/**
 * A date and time (ISO 8601 with or without offset, `YYYY-MM-DD HH:MM`, or `HH:MM` = its next
 * occurrence after `nowMs`), as epoch ms. Range checks are the caller's.
 */
export function readDateTime(text: string, ctx: Ctx, nowMs: number): number {
  const at = parseDateTime(text, nowMs);
  if (at === null) {
    return fail(
      ctx,
      `expected a date and time like 2026-03-01T07:30 or a time like 07:30, got ${quote(text)}`,
    );
  }
  return at;
}
