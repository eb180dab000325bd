/** The users, tariff and http sections (sessions, costs, the read-only HTTP endpoint). */
import { describe, expect, it } from 'vitest';
import { redactConfig } from '../../src/config/redact.js';
import type { Tariff } from '../../src/sessions/tariff.js';
import type { UserConfig } from '../../src/sessions/users.js';
import { load, problems } from './helpers.js';

describe('users section', () => {
  it('takes users with tags and BS20 user ids, and defaults to none', () => {
    expect(load('log_level: info\n').config.users).toEqual([]);
    const { users } = load(`users:
  - name: alice
    id_tags: ["04A1B2C3", "04FFEE00"]
    bs20_user_id: alice01
  - name: bob
`).config;
    expect(users).toEqual([
      { name: 'alice', idTags: ['04A1B2C3', '04FFEE00'], bs20UserId: 'alice01' },
      { name: 'bob', idTags: [] },
    ]);
    // The session tracker takes the entries as they are.
    const forTracker: readonly UserConfig[] = users;
    expect(forTracker).toHaveLength(2);
  });

  it('rejects duplicate names, tags (any case) and BS20 ids, naming the first owner', () => {
    expect(
      problems(`users:
  - { name: alice, id_tags: ["04a1b2c3"], bs20_user_id: shared }
  - { name: alice, id_tags: ["04A1B2C3"], bs20_user_id: shared }
  - { name: carol, bs20_user_id: "this is far too long for a BS20" }
`),
    ).toEqual([
      'users[1].name: "alice" is already used by users[0]; a session can belong to one user only',
      'users[1].id_tags[0]: "04A1B2C3" is already used by users[0]; a session can belong to one user only',
      'users[1].bs20_user_id: "shared" is already used by users[0]; a session can belong to one user only',
      'users[2].bs20_user_id: must be 1 to 16 plain ASCII characters (the BS20 user field), e.g. alice01; got "this is far too long for a BS20"',
    ]);
  });
});

describe('tariff section', () => {
  it('is absent by default (no costs) and takes windows with defaults', () => {
    expect(load('log_level: info\n').config.tariff).toBeUndefined();
    const { tariff } = load(`tariff:
  currency: eur
  price_per_kwh: 0.32
  windows:
    - name: night
      days: [mon, tue, wed, thu, fri]
      from: "22:00"
      to: "06:00"
      price_per_kwh: 0.21
    - name: weekend
      from: "00:00"
      to: "24:00"
      days: [sat, sun]
      price_per_kwh: 0.25
`).config;
    expect(tariff).toEqual({
      currency: 'EUR',
      pricePerKwh: 0.32,
      sessionFee: 0,
      windows: [
        {
          name: 'night',
          days: ['mon', 'tue', 'wed', 'thu', 'fri'],
          from: '22:00',
          to: '06:00',
          pricePerKwh: 0.21,
        },
        { name: 'weekend', days: ['sat', 'sun'], from: '00:00', to: '24:00', pricePerKwh: 0.25 },
      ],
    });
    const forCosts: Tariff | null = tariff ?? null;
    expect(forCosts?.windows).toHaveLength(2);
    const everyDay = load(
      'tariff: { currency: CHF, price_per_kwh: 0.3, windows: [{ name: solar, from: "11:00", to: "15:00", price_per_kwh: 0.1 }] }\n',
    ).config.tariff;
    expect(everyDay?.windows[0]?.days).toEqual(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']);
  });

  it('explains bad currencies, prices, times and window names', () => {
    expect(
      problems(`tariff:
  currency: EURO
  price_per_kwh: -1
  session_fee: "free"
  windows:
    - { name: standard, from: "7:00", to: "25:00", price_per_kwh: 0.1 }
    - { name: night, from: "22:00", to: "22:00", price_per_kwh: 0.1, days: [] }
    - { name: night, from: "01:00", to: "02:00", price_per_kwh: 0.1, days: [monday] }
`),
    ).toEqual([
      'tariff.currency: must be a 3-letter ISO 4217 currency code, e.g. EUR, GBP, CHF; got "EURO"',
      'tariff.price_per_kwh: must be a number from 0 to 100 (price per kWh), e.g. 0.32; got -1',
      'tariff.session_fee: must be a number from 0 to 100 (fixed fee per session), e.g. 0.32; got "free" (text)',
      'tariff.windows[0].from: must be a time of day HH:MM in quotes, e.g. "22:00"; got "7:00"',
      'tariff.windows[0].to: must be a time of day HH:MM in quotes, e.g. "22:00" ("24:00" = end of the day); got "25:00"',
      'tariff.windows[0].name: "standard" is the name of the price outside every window; pick another',
      'tariff.windows[1].days: needs at least one day (leave the key out for every day); got a list',
      'tariff.windows[1].to: must differ from `from`; for the whole day use from: "00:00" and to: "24:00"',
      'tariff.windows[2].days[0]: must be one of: mon, tue, wed, thu, fri, sat, sun; got "monday"',
      'tariff.windows[2].name: "night" is already used by windows[1]; window names must be unique',
    ]);
  });

  it('needs a currency and a price', () => {
    expect(problems('tariff:\n  session_fee: 1\n')).toEqual([
      'tariff.currency: is required; must be a 3-letter ISO 4217 currency code, e.g. EUR, GBP, CHF',
      'tariff.price_per_kwh: is required; must be a number from 0 to 100 (price per kWh), e.g. 0.32',
    ]);
  });
});

describe('http section', () => {
  it('is off by default, on this machine only', () => {
    expect(load('log_level: info\n').config.http).toEqual({ enabled: false, host: '127.0.0.1', port: 8099 });
  });

  it('needs a long enough token when enabled, and hides it', () => {
    expect(problems('http:\n  enabled: true\n')).toEqual([
      'http.token: is required when http.enabled is true: every request must present it',
    ]);
    expect(problems('http:\n  enabled: true\n  token: short\n')).toEqual([
      'http.token: must be at least 16 characters, so it cannot be guessed',
    ]);
    const { config } = load(
      'http:\n  enabled: true\n  host: 0.0.0.0\n  port: 9100\n  token: 0123456789abcdef0123\n',
    );
    expect(config.http).toEqual({
      enabled: true,
      host: '0.0.0.0',
      port: 9100,
      token: '0123456789abcdef0123',
    });
    expect(redactConfig(config).http.token).toBe('[redacted]');
  });
});
