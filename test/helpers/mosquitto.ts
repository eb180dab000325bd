/**
 * A real Mosquitto for interop tests: own config in a temp dir, random loopback port, optional
 * password file; stop, kill and restart on the same port. Fails loudly when mosquitto is missing
 * (suites that use it skip first: describe.skipIf(!has('mosquitto')), see system-programs.ts).
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { findBinary, installCommand } from './system-programs.js';

const run = promisify(execFile);

export interface MosquittoOptions {
  /** Serve MQTT over TLS (mqtts://) with this certificate and key (PEM file paths). */
  tls?: { certFile: string; keyFile: string };
  /** When set, anonymous clients are refused and this user/password is required. */
  username?: string;
  password?: string;
}

export interface Mosquitto {
  readonly port: number;
  /** The running broker's process id (benchmarks read its CPU time); undefined while stopped. */
  readonly pid: number | undefined;
  readonly url: string;
  /** SIGTERM and wait for exit. */
  stop(): Promise<void>;
  /** SIGKILL and wait for exit (a crashed broker). */
  kill(): Promise<void>;
  /** Start again on the same port with the same config (after stop/kill, or stops first). */
  restart(): Promise<void>;
  /** Stop and remove the temp dir. */
  dispose(): Promise<void>;
}

// Never leave a broker behind when a test run ends abruptly.
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

const READY_ATTEMPTS = 100;
const READY_POLL_MS = 20;

function requireBinary(name: string): string {
  const path = findBinary(name);
  if (!path) {
    // Suites that need it skip with describe.skipIf(!has('mosquitto')); reaching this is a suite that does not.
    throw new Error(
      `'${name}' not found. This test needs a real Mosquitto broker: install it with ` +
        `'${installCommand(['mosquitto'])}' (CI does this in .ci/run).`,
    );
  }
  return path;
}

export async function startMosquitto(options: MosquittoOptions = {}): Promise<Mosquitto> {
  const binary = requireBinary('mosquitto');
  const dir = await mkdtemp(join(tmpdir(), 'chargebridge-mosquitto-'));
  const configFile = join(dir, 'mosquitto.conf');
  const lines = ['per_listener_settings false', 'persistence false', 'log_dest stderr', 'log_type error'];
  // Without it, Nagle + delayed ACK adds ~40 ms to each request/response in the tests.
  lines.push('set_tcp_nodelay true');
  // As root, mosquitto 2 drops to the 'mosquitto' user, which cannot read our 0700 temp dir.
  if (process.getuid?.() === 0) lines.push('user root');
  if (options.username !== undefined) {
    const passwordFile = join(dir, 'passwords');
    await run(requireBinary('mosquitto_passwd'), [
      '-b',
      '-c',
      passwordFile,
      options.username,
      options.password ?? '',
    ]);
    lines.push('allow_anonymous false', `password_file ${passwordFile}`);
  } else {
    lines.push('allow_anonymous true');
  }

  let port = 0;
  let child: ChildProcess | undefined;
  const launch = async (): Promise<void> => {
    const tlsLines = options.tls
      ? [`certfile ${options.tls.certFile}`, `keyfile ${options.tls.keyFile}`]
      : [];
    await writeFile(configFile, [`listener ${port} 127.0.0.1`, ...tlsLines, ...lines, ''].join('\n'));
    child = await spawnAndWait(binary, configFile, port);
  };
  // A free port can be taken between probing and binding; try a few.
  for (let attempt = 1; ; attempt++) {
    port = await freePort();
    try {
      await launch();
      break;
    } catch (err) {
      if (attempt >= 3) {
        await rm(dir, { recursive: true, force: true });
        throw err;
      }
    }
  }

  const signal = async (sig: NodeJS.Signals): Promise<void> => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.kill(sig);
    await exited;
  };

  return {
    port,
    get pid() {
      return child?.pid;
    },
    url: `${options.tls ? 'mqtts' : 'mqtt'}://127.0.0.1:${port}`,
    stop: () => signal('SIGTERM'),
    kill: () => signal('SIGKILL'),
    restart: async () => {
      await signal('SIGTERM');
      await launch();
    },
    dispose: async () => {
      await signal('SIGTERM');
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function spawnAndWait(binary: string, configFile: string, port: number): Promise<ChildProcess> {
  const child = spawn(binary, ['-c', configFile], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    stderr += chunk;
  });
  running.add(child);
  let exited = false;
  child.once('exit', () => {
    exited = true;
    running.delete(child);
  });
  for (let attempt = 0; attempt < READY_ATTEMPTS; attempt++) {
    if (exited) throw new Error(`mosquitto exited during start-up on port ${port}: ${stderr.trim()}`);
    if (await canConnect(port)) return child;
    await new Promise((resolve) => setTimeout(resolve, READY_POLL_MS));
  }
  child.kill('SIGKILL');
  throw new Error(
    `mosquitto did not accept connections on port ${port} after ${READY_ATTEMPTS} attempts: ${stderr}`,
  );
}

/** True when something accepts TCP connections on 127.0.0.1:`port`. */
export function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Ask the OS for a free loopback port. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
