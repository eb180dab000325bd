/**
 * Who gets into the embedded broker, over real mqtt.js connections at MQTT 5 and 3.1.1: any of the
 * accounts; clients without a login only when allowAnonymous is on; refusals with the CONNACK code
 * each protocol defines (5: 0x86 bad user name or password, 0x87 not authorized; 3.1.1: 4, 5).
 */
import { PassThrough } from 'node:stream';
import { connectAsync } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { type EmbeddedBroker, startEmbeddedBroker } from '../../src/mqtt/embedded-broker.js';

const host = '127.0.0.1';
const ACCOUNTS = [
  { username: 'homeassistant', password: 'ha-Secret-4821' },
  { username: 'chargebridge', password: 'cb-Secret-9913' },
];

type Protocol = 5 | 4;

/** 'connected', or the CONNACK code the broker refused with. */
async function connectCode(
  port: number,
  protocolVersion: Protocol,
  login: { username?: string; password?: string } = {},
): Promise<'connected' | number> {
  try {
    const client = await connectAsync(`mqtt://${host}:${port}`, {
      reconnectPeriod: 0,
      connectTimeout: 5000,
      protocolVersion,
      ...login,
    });
    await client.endAsync();
    return 'connected';
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (typeof code !== 'number') throw err;
    return code;
  }
}

function logCapture() {
  const stream = new PassThrough();
  let raw = '';
  stream.on('data', (chunk: Buffer) => {
    raw += chunk.toString('utf8');
  });
  return { logger: createLogger({ level: 'debug', destination: stream }), raw: () => raw };
}

let broker: EmbeddedBroker | undefined;
afterEach(async () => {
  await broker?.close();
  broker = undefined;
});

const CODES = {
  5: { badLogin: 0x86, notAuthorized: 0x87 },
  4: { badLogin: 4, notAuthorized: 5 },
} as const;

describe.each([5, 4] as const)('embedded broker logins at protocol %i', (protocol) => {
  const codes = CODES[protocol];

  it('lets in every account and refuses anonymous, wrong passwords and mixed-up logins', async () => {
    const logs = logCapture();
    broker = await startEmbeddedBroker({ host, port: 0, accounts: ACCOUNTS, logger: logs.logger });
    const [ha, cb] = ACCOUNTS as [(typeof ACCOUNTS)[0], (typeof ACCOUNTS)[0]];

    expect(await connectCode(broker.port, protocol, ha)).toBe('connected');
    expect(await connectCode(broker.port, protocol, cb)).toBe('connected');
    expect(await connectCode(broker.port, protocol)).toBe(codes.notAuthorized);
    expect(await connectCode(broker.port, protocol, { username: ha.username, password: 'wrong' })).toBe(
      codes.badLogin,
    );
    expect(await connectCode(broker.port, protocol, { username: ha.username })).toBe(codes.badLogin);
    // One account's user name with the other's password is no login at all.
    expect(await connectCode(broker.port, protocol, { username: ha.username, password: cb.password })).toBe(
      codes.badLogin,
    );
    expect(await connectCode(broker.port, protocol, { username: 'admin', password: ha.password })).toBe(
      codes.badLogin,
    );
    expect(logs.raw()).toContain('client refused');
    for (const account of ACCOUNTS) expect(logs.raw()).not.toContain(account.password);
  });

  it('refuses anonymous clients by default, even with no accounts', async () => {
    broker = await startEmbeddedBroker({ host, port: 0, logger: createLogger({ level: 'silent' }) });
    expect(await connectCode(broker.port, protocol)).toBe(codes.notAuthorized);
  });

  it('with allowAnonymous, lets in clients without a login but still checks a login that is given', async () => {
    broker = await startEmbeddedBroker({
      host,
      port: 0,
      accounts: ACCOUNTS,
      allowAnonymous: true,
      logger: createLogger({ level: 'silent' }),
    });
    expect(await connectCode(broker.port, protocol)).toBe('connected');
    expect(await connectCode(broker.port, protocol, ACCOUNTS[1])).toBe('connected');
    expect(await connectCode(broker.port, protocol, { username: 'homeassistant', password: 'wrong' })).toBe(
      codes.badLogin,
    );
  });

  it('with allowAnonymous and no accounts, any login gets in (as Mosquitto without a password file)', async () => {
    broker = await startEmbeddedBroker({
      host,
      port: 0,
      allowAnonymous: true,
      logger: createLogger({ level: 'silent' }),
    });
    expect(await connectCode(broker.port, protocol)).toBe('connected');
    expect(await connectCode(broker.port, protocol, { username: 'x', password: 'y' })).toBe('connected');
  });
});

it('the single username/password option still works, as one more account', async () => {
  broker = await startEmbeddedBroker({
    host,
    port: 0,
    accounts: [ACCOUNTS[0]!],
    username: 'legacy',
    password: 'legacy-Secret-1',
    logger: createLogger({ level: 'silent' }),
  });
  expect(await connectCode(broker.port, 5, { username: 'legacy', password: 'legacy-Secret-1' })).toBe(
    'connected',
  );
  expect(await connectCode(broker.port, 5, ACCOUNTS[0])).toBe('connected');
  expect(await connectCode(broker.port, 5)).toBe(0x87);
});
