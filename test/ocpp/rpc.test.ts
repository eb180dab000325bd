import { afterEach, describe, expect, it } from 'vitest';
import {
  call,
  createRpcClient,
  createRpcServer,
  handle,
  handleRaw,
  isRpcError,
  type RpcClient,
  RpcInvalidResponseError,
  type RpcIssue,
  RpcNotConnectedError,
  type RpcServer,
  type RpcServerClient,
  rpcError,
} from '../../src/ocpp/rpc.js';

interface Rig {
  server: RpcServer;
  client: RpcClient;
  serverSide: RpcServerClient;
}

let cleanup: (() => Promise<void>) | null = null;

afterEach(async () => {
  await cleanup?.();
  cleanup = null;
});

async function rig(): Promise<Rig> {
  const server = createRpcServer({ protocols: ['ocpp1.6'], strictMode: false });
  const connected = new Promise<RpcServerClient>((resolve) => server.on('client', resolve));
  const http = await server.listen(0, '127.0.0.1');
  const address = http.address();
  if (!address || typeof address === 'string') throw new Error('no port');
  const client = createRpcClient({
    endpoint: `ws://127.0.0.1:${address.port}/ocpp`,
    identity: 'CP 1',
    protocols: ['ocpp1.6'],
    reconnect: false,
    pingIntervalMs: 0,
  });
  await client.connect();
  const serverSide = await connected;
  cleanup = async () => {
    await client.close({ force: true });
    await server.close({ force: true });
  };
  return { server, client, serverSide };
}

const boot = { chargePointVendor: 'Acme', chargePointModel: 'Box' };

describe('rpc wrapper', () => {
  it('types a round trip and exposes the decoded identity', async () => {
    const { client, serverSide } = await rig();
    expect(serverSide.identity).toBe('CP 1');
    handle(serverSide, 'BootNotification', ({ params }) => ({
      status: 'Accepted',
      currentTime: new Date(0).toISOString(),
      interval: params.chargePointModel.length,
    }));
    const answer = await call(client, 'BootNotification', boot);
    expect(answer).toEqual({ status: 'Accepted', currentTime: '1970-01-01T00:00:00.000Z', interval: 3 });
  });

  it('answers non-conforming params with the 1.6J error code and reports the issue', async () => {
    const { client, serverSide } = await rig();
    const issues: RpcIssue[] = [];
    let reached = false;
    handle(
      serverSide,
      'BootNotification',
      () => {
        reached = true;
        return { status: 'Accepted', currentTime: new Date(0).toISOString(), interval: 1 };
      },
      { onIssue: (i) => issues.push(i) },
    );
    const err = await client.call('BootNotification', { chargePointVendor: 'Acme' }).catch((e: unknown) => e);
    expect(isRpcError(err) && err.rpcErrorCode).toBe('OccurrenceConstraintViolation');
    const tooLong = await client
      .call('BootNotification', { ...boot, chargePointModel: 'x'.repeat(21) })
      .catch((e: unknown) => e);
    expect(isRpcError(tooLong) && tooLong.rpcErrorCode).toBe('FormationViolation');
    expect(reached).toBe(false);
    expect(issues.map((i) => i.kind)).toEqual(['call', 'call']);
  });

  it('handleRaw passes non-conforming params through with the verdict', async () => {
    const { client, serverSide } = await rig();
    const seen: unknown[] = [];
    handleRaw(serverSide, 'MeterValues', ({ params, issue }) => {
      seen.push([params, issue?.rpcErrorCode ?? null]);
      return {};
    });
    const params = { connectorId: 1, meterValue: [{ timestamp: 'x', sampledValue: [{ value: 5 }] }] };
    await expect(client.call('MeterValues', params)).resolves.toEqual({});
    expect(seen).toEqual([[params, expect.any(String)]]);
  });

  it('turns a handler bug into InternalError without leaking its message', async () => {
    const { client, serverSide } = await rig();
    const bugs: unknown[] = [];
    handle(
      serverSide,
      'Heartbeat',
      () => {
        throw new Error('secret internals');
      },
      { onHandlerError: (_a, e) => bugs.push(e) },
    );
    const err = await client.call('Heartbeat', {}).catch((e: unknown) => e);
    expect(isRpcError(err) && err.rpcErrorCode).toBe('InternalError');
    expect(String((err as Error).message)).not.toContain('secret');
    expect(bugs).toHaveLength(1);
  });

  it('passes RPC errors thrown by a handler as they are', async () => {
    const { client, serverSide } = await rig();
    handle(serverSide, 'DataTransfer', () => {
      throw rpcError('NotSupported', 'no vendor data');
    });
    const err = await client.call('DataTransfer', { vendorId: 'x' }).catch((e: unknown) => e);
    expect(isRpcError(err) && err.rpcErrorCode).toBe('NotSupported');
  });

  it('refuses to send a non-conforming request', async () => {
    const { client, serverSide } = await rig();
    let received = 0;
    serverSide.on('message', () => received++);
    const bad = { connectorId: 1, type: 'Sometimes' } as never;
    await expect(call(client, 'ChangeAvailability', bad)).rejects.toThrow(
      /non-conforming ChangeAvailability/,
    );
    expect(received).toBe(0);
  });

  it('rejects a non-conforming answer unless told to tolerate it', async () => {
    const { client, serverSide } = await rig();
    serverSide.handle('Heartbeat', async () => ({ currentTime: 'yesterday' }));
    const issues: RpcIssue[] = [];
    const strict = await call(client, 'Heartbeat', {}).catch((e: unknown) => e);
    expect(strict).toBeInstanceOf(RpcInvalidResponseError);
    expect((strict as RpcInvalidResponseError).response).toEqual({ currentTime: 'yesterday' });
    const loose = await call(
      client,
      'Heartbeat',
      {},
      { responseCheck: 'warn', onIssue: (i) => issues.push(i) },
    );
    expect(loose).toEqual({ currentTime: 'yesterday' });
    expect(issues).toMatchObject([{ action: 'Heartbeat', kind: 'result' }]);
  });

  it('never buffers a call on a socket that is not open', async () => {
    const { client } = await rig();
    await client.close({ force: true });
    await expect(call(client, 'Heartbeat', {})).rejects.toBeInstanceOf(RpcNotConnectedError);
  });
});
