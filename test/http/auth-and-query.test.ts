/** The bearer token check and the export query: pure functions, plain values. */
import { describe, expect, it } from 'vitest';
import { TokenCheck } from '../../src/http/auth.js';
import { exportFileName, parseExportQuery } from '../../src/http/export-query.js';

const TOKEN = 'f00dfeed-0123456789abcdef';

describe('TokenCheck', () => {
  const check = new TokenCheck(TOKEN);

  it('accepts the token after Bearer, in any case of the scheme, with extra spaces', () => {
    expect(check.check(`Bearer ${TOKEN}`)).toBe('ok');
    expect(check.check(`bearer ${TOKEN}`)).toBe('ok');
    expect(check.check(`BEARER   ${TOKEN} `)).toBe('ok');
  });

  it('tells a missing header from a wrong one', () => {
    expect(check.check(undefined)).toBe('missing');
    expect(check.check('')).toBe('missing');
    expect(check.check('Bearer wrong-token-0123456789')).toBe('invalid');
    expect(check.check(`Bearer ${TOKEN}x`)).toBe('invalid');
    expect(check.check(`Bearer ${TOKEN.slice(0, -1)}`)).toBe('invalid');
    // The right token, but not as a bearer token.
    expect(check.check(TOKEN)).toBe('invalid');
    expect(check.check(`Basic ${TOKEN}`)).toBe('invalid');
    expect(check.check(`Bearer ${TOKEN} extra`)).toBe('invalid');
  });
});

describe('parseExportQuery', () => {
  const parse = (qs: string) => parseExportQuery(new URLSearchParams(qs));

  it('defaults to CSV with no filters', () => {
    expect(parse('')).toEqual({ ok: true, query: { format: 'csv', month: null, user: null, charger: null } });
  });

  it('takes every filter', () => {
    expect(parse('format=json&month=2026-03&user=Alice%20M%C3%BCller&charger=garage')).toEqual({
      ok: true,
      query: { format: 'json', month: '2026-03', user: 'Alice Müller', charger: 'garage' },
    });
  });

  it('refuses bad values with a reason', () => {
    expect(parse('format=xml')).toEqual({ ok: false, error: 'format must be csv or json' });
    for (const month of ['2026-13', '2026-3', '26-03', '2026-00', '2026-03-01']) {
      expect(parse(`month=${month}`)).toMatchObject({ ok: false, error: expect.stringContaining('YYYY-MM') });
    }
    expect(parse('user=')).toMatchObject({ ok: false, error: expect.stringContaining('user must be') });
    expect(parse(`charger=${'x'.repeat(65)}`)).toMatchObject({ ok: false });
    expect(parse('user=a%0Ab')).toMatchObject({ ok: false });
    expect(parse('user=a%E2%80%AEb')).toMatchObject({ ok: false }); // right-to-left override
  });

  it('refuses unknown and repeated parameters without echoing them', () => {
    const unknown = parse('mnth=2026-03');
    expect(unknown).toEqual({
      ok: false,
      error: 'unknown query parameter; allowed: format, month, user, charger',
    });
    expect(parse('user=a&user=b')).toEqual({ ok: false, error: 'user is given more than once' });
  });
});

describe('exportFileName', () => {
  it('names the file after its filters, in header-safe characters', () => {
    expect(exportFileName({ format: 'csv', month: null, user: null, charger: null })).toBe(
      'chargebridge-sessions.csv',
    );
    expect(
      exportFileName({ format: 'json', month: '2026-03', user: 'Alice Müller', charger: 'garage' }),
    ).toBe('chargebridge-sessions-2026-03-garage-Alice_M_ller.json');
    expect(exportFileName({ format: 'csv', month: null, user: '"; rm -rf', charger: '../x' })).toBe(
      'chargebridge-sessions-x-rm_-rf.csv',
    );
  });
});
