/**
 * `tariff:` — what electricity costs, for session costs: a currency, a price per kWh, a fee per
 * session and optional time-of-use windows in the configured `timezone` (e.g. a cheaper night on
 * weekdays). Leave the section out and chargebridge shows no costs.
 */
import { z } from 'zod';
import { STANDARD_WINDOW, WEEKDAY_NAMES } from '../../sessions/tariff.js';
import { EVEN_WITH_ERRORS, EVEN_WITH_ERRORS_IN_LIST, oneOf, reportAt, ruleError } from '../fields.js';

const KNOWN_CURRENCIES = new Set(Intl.supportedValuesOf('currency'));

function currency() {
  const rule = 'must be a 3-letter ISO 4217 currency code, e.g. EUR, GBP, CHF';
  return z
    .string({ error: ruleError(rule) })
    .transform((code) => code.trim().toUpperCase())
    .refine((code) => /^[A-Z]{3}$/.test(code) && KNOWN_CURRENCIES.has(code), { error: rule });
}

function price(what: string) {
  const rule = `must be a number from 0 to 100 (${what}), e.g. 0.32`;
  const error = ruleError(rule);
  return z.number({ error }).min(0, { error }).max(100, { error });
}

function timeOfDay(allowEndOfDay: boolean) {
  const rule = `must be a time of day HH:MM in quotes, e.g. "22:00"${allowEndOfDay ? ' ("24:00" = end of the day)' : ''}`;
  return z
    .string({
      error: (issue) =>
        typeof issue.input === 'number'
          ? `${rule}; without quotes YAML may read it as a number`
          : ruleError(rule)(issue),
    })
    .refine(
      (t) => {
        const m = /^(\d{2}):(\d{2})$/.exec(t);
        if (!m) return false;
        const minutes = Number(m[1]) * 60 + Number(m[2]);
        return Number(m[2]) < 60 && (minutes < 1440 || (allowEndOfDay && minutes === 1440));
      },
      { error: rule },
    );
}

const window = z
  .strictObject({
    name: z
      .string({ error: ruleError('must be a short name of a-z, 0-9 and _, e.g. night') })
      .regex(/^[a-z0-9_]{1,32}$/, { error: 'must be a short name of a-z, 0-9 and _, e.g. night' }),
    // The days on which the window STARTS: a 22:00–06:00 window on fri covers Friday night.
    days: z
      .array(oneOf(WEEKDAY_NAMES), { error: 'must be a list of days, e.g. [mon, tue, wed, thu, fri]' })
      .min(1, { error: 'needs at least one day (leave the key out for every day)' })
      .default([...WEEKDAY_NAMES]),
    from: timeOfDay(false),
    to: timeOfDay(true),
    price_per_kwh: price('price per kWh in this window'),
  })
  .superRefine((w, check) => {
    if (typeof w.from === 'string' && w.from === w.to) {
      reportAt(check, ['to'], 'must differ from `from`; for the whole day use from: "00:00" and to: "24:00"');
    }
  }, EVEN_WITH_ERRORS);

function checkWindowNames(windows: unknown[], check: z.RefinementCtx): void {
  const first = new Map<string, number>();
  windows.forEach((entry, index) => {
    const name = (entry as { name?: unknown } | null)?.name;
    if (typeof name !== 'string') return;
    if (name === STANDARD_WINDOW) {
      reportAt(
        check,
        [index, 'name'],
        `"${STANDARD_WINDOW}" is the name of the price outside every window; pick another`,
      );
    }
    const earlier = first.get(name);
    if (earlier === undefined) first.set(name, index);
    else
      reportAt(
        check,
        [index, 'name'],
        `"${name}" is already used by windows[${earlier}]; window names must be unique`,
      );
  });
}

export const tariffSection = z
  .strictObject({
    currency: currency(),
    // Outside every window.
    price_per_kwh: price('price per kWh'),
    session_fee: price('fixed fee per session').default(0),
    // The first window that matches an instant wins.
    windows: z
      .array(window, { error: 'must be a list of time windows (each entry starting with "- name: …")' })
      .superRefine(checkWindowNames, EVEN_WITH_ERRORS_IN_LIST)
      .default([]),
  })
  .optional();
