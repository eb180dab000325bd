/**
 * Security profile 2: TLS with a certificate made for this test run (openssl), plus Basic auth.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { call, createRpcClient, type RpcClient } from '../../../src/ocpp/rpc.js';
import { CsRig, stationConfig } from './harness.js';

let dir: string;
let cert: Buffer;
let key: Buffer;
let rig: CsRig;
const clients: RpcClient[] = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'cb-ocpp-tls-'));
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1']
      .concat(['-subj', '/CN=chargebridge-test', '-addext', 'subjectAltName=IP:127.0.0.1'])
      .concat(['-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')]),
    { stdio: 'ignore' },
  );
  cert = readFileSync(join(dir, 'cert.pem'));
  key = readFileSync(join(dir, 'key.pem'));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

afterEach(async () => {
  for (const c of clients.splice(0)) await c.close({ force: true });
  await rig.stop();
});

function client(url: string, password: string, ca: Buffer | null): RpcClient {
  const c = createRpcClient({
    endpoint: url,
    identity: 'GARAGE',
    password,
    protocols: ['ocpp1.6'],
    reconnect: false,
    pingIntervalMs: 0,
    wsOpts: ca ? { ca } : {},
  });
  clients.push(c);
  return c;
}

describe('security profile 2', () => {
  it('serves wss with the configured certificate and still checks the password', async () => {
    rig = await CsRig.start({
      securityProfile: 2,
      tls: { cert, key },
      stations: [stationConfig('garage', { password: 'k3y' })],
    });
    const wss = `wss://127.0.0.1:${rig.cs.port}/ocpp`;
    const good = client(wss, 'k3y', cert);
    await good.connect();
    await expect(
      call(good, 'BootNotification', { chargePointVendor: 'A', chargePointModel: 'B' }),
    ).resolves.toMatchObject({ status: 'Accepted' });
    expect(rig.charger().getState().link).toBe('online');
    await expect(client(wss, 'nope', cert).connect()).rejects.toThrow(/Unauthorized/);
    // A client that does not trust the certificate never gets to authenticate.
    await expect(client(wss, 'k3y', null).connect()).rejects.toThrow(/self[- ]signed|certificate/i);
    // Plain websockets are not served on a TLS port.
    await expect(client(`ws://127.0.0.1:${rig.cs.port}/ocpp`, 'k3y', null).connect()).rejects.toThrow();
  });
});
