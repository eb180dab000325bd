/**
 * A port already taken: the embedded broker's error names the key to change and the program that
 * holds the port, found through /proc. Here the holder is a second listener in this very test
 * process, so the message must name node and this pid.
 */
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { findPortHolder, listenError } from '../../src/core/port-in-use.js';
import { silentLogger } from '../../src/log.js';
import { startEmbeddedBroker } from '../../src/mqtt/embedded-broker.js';
import type { RpcServer } from '../../src/ocpp/rpc.js';
import { listenForStations } from '../../src/ocpp/server/listener.js';

const onLinux = process.platform === 'linux';
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function holdPort(host: string): Promise<number> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  cleanups.push(() => new Promise((resolve) => server.close(() => resolve())));
  return (server.address() as { port: number }).port;
}

describe.skipIf(!onLinux)('port in use', () => {
  it('the broker says which program holds its port and which key to change', async () => {
    const port = await holdPort('127.0.0.1');
    const error = await startEmbeddedBroker({
      host: '127.0.0.1',
      port,
      allowAnonymous: true,
      logger: silentLogger(),
    }).then(
      () => undefined,
      (err: unknown) => err as Error & { code?: string },
    );
    expect(error?.message).toMatch(
      new RegExp(
        `^mqtt: cannot listen on 127\\.0\\.0\\.1:${port}: the port is already in use by node[^;]* \\(pid ${process.pid}\\); change mqtt\\.embedded_broker\\.port, or stop that program$`,
      ),
    );
    expect(error?.code).toBe('EADDRINUSE');
  });

  it('the OCPP central system names its key and the holder too', async () => {
    const port = await holdPort('127.0.0.1');
    // The listener never gets as far as a websocket upgrade, so it needs no real RPC server.
    const error = await listenForStations({
      rpc: {} as RpcServer,
      host: '127.0.0.1',
      port,
      tls: null,
      log: silentLogger(),
    }).then(
      () => undefined,
      (err: unknown) => err as Error,
    );
    expect(error?.message).toMatch(
      new RegExp(
        `^ocpp_server: cannot listen on 127\\.0\\.0\\.1:${port}: the port is already in use by node[^;]* \\(pid ${process.pid}\\); change ocpp_server\\.port, or stop that program$`,
      ),
    );
  });

  it('finds a holder listening on IPv6 too, and returns undefined for a port nobody listens on', async () => {
    const port = await holdPort('::1').catch(() => undefined);
    if (port !== undefined) expect((await findPortHolder(port))?.pid).toBe(process.pid);
    const free = await holdPort('127.0.0.1');
    await cleanups.pop()!(); // closed again: nobody listens there now
    expect(await findPortHolder(free)).toBeUndefined();
  });

  it('tolerates what it cannot read: a process whose fds are off limits is skipped, not an error', async () => {
    // A fake /proc: pid 10's fd folder is missing (as for another user's process), pid 20 holds it.
    const proc = await mkdtemp(join(tmpdir(), 'chargebridge-proc-'));
    cleanups.push(() => rm(proc, { recursive: true, force: true }));
    await mkdir(join(proc, 'net'));
    const header =
      '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';
    await writeFile(
      join(proc, 'net/tcp'),
      `${header}   0: 00000000:075B 00000000:0000 0A 00000000:00000000 00:00000000 00000000   107        0 4242 1 0 100 0 0 10 0\n` +
        `   1: 0100007F:075B 0100007F:9C40 01 00000000:00000000 00:00000000 00000000   107        0 5151 1 0 100 0 0 10 0\n`,
    );
    await mkdir(join(proc, '10'));
    await mkdir(join(proc, '20/fd'), { recursive: true });
    await symlink('socket:[5151]', join(proc, '20/fd/3')); // the established connection, not the listener
    await symlink('socket:[4242]', join(proc, '20/fd/4'));
    await writeFile(join(proc, '20/comm'), 'mosquitto\n');
    await writeFile(join(proc, '20/cmdline'), '/usr/sbin/mosquitto\0-c\0/etc/mosquitto/mosquitto.conf\0');
    expect(await findPortHolder(1883, proc)).toEqual({
      pid: 20,
      name: 'mosquitto',
      argv: ['/usr/sbin/mosquitto', '-c', '/etc/mosquitto/mosquitto.conf'],
    });
    expect(await findPortHolder(1884, proc)).toBeUndefined();
    expect(await findPortHolder(1883, join(proc, 'missing'))).toBeUndefined();
  });
});

describe('listen errors', () => {
  const target = {
    what: 'mqtt',
    host: '0.0.0.0',
    port: 80,
    portKey: 'mqtt.embedded_broker.port',
    hostKey: 'mqtt.embedded_broker.host',
  };
  const fail = (code: string) => Object.assign(new Error(`listen ${code}`), { code });

  it('name the key to change for each reason', async () => {
    expect((await listenError(fail('EACCES'), target)).message).toBe(
      'mqtt: cannot listen on 0.0.0.0:80: permission denied (ports below 1024 need privileges); change mqtt.embedded_broker.port',
    );
    expect((await listenError(fail('EADDRNOTAVAIL'), { ...target, host: '10.9.9.9' })).message).toBe(
      'mqtt: cannot listen on 10.9.9.9:80: this machine has no such address; change mqtt.embedded_broker.host',
    );
    expect((await listenError(fail('EINVAL'), target)).message).toBe(
      'mqtt: cannot listen on 0.0.0.0:80: listen EINVAL; check mqtt.embedded_broker.host and mqtt.embedded_broker.port',
    );
  });
});
