/**
 * Why a server could not listen, in words a user can act on: the config key to change and, on
 * Linux, which program already holds the port (read from /proc: the LISTEN socket's inode in
 * /proc/net/tcp{,6}, then the process whose fd links to `socket:[inode]`). The lookup is best
 * effort: other users' processes, other containers and non-Linux systems give `undefined`.
 */
import { readdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';

export interface PortHolder {
  pid: number;
  /** /proc/<pid>/comm, e.g. `mosquitto`. */
  name: string;
  /** argv from /proc/<pid>/cmdline; not put in messages (it can hold a password). */
  argv: string[];
}

const TCP_LISTEN = '0A';

/** The process listening on TCP `port` (any address), or undefined when it cannot be found out. */
export async function findPortHolder(port: number, procRoot = '/proc'): Promise<PortHolder | undefined> {
  const inodes = new Set<string>();
  for (const table of ['net/tcp', 'net/tcp6']) {
    const text = await readFile(join(procRoot, table), 'utf8').catch(() => '');
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      const local = fields[1];
      const inode = fields[9];
      if (!local || !inode || inode === '0' || fields[3] !== TCP_LISTEN) continue;
      if (Number.parseInt(local.slice(local.lastIndexOf(':') + 1), 16) === port) inodes.add(inode);
    }
  }
  if (inodes.size === 0) return undefined;
  const wanted = new Set([...inodes].map((inode) => `socket:[${inode}]`));
  const pids = (await readdir(procRoot).catch(() => [] as string[])).filter((d) => /^\d+$/.test(d));
  for (const pid of pids) {
    const fdDir = join(procRoot, pid, 'fd');
    // Another user's process (EACCES) or one that just exited (ENOENT): not ours to know.
    const fds = await readdir(fdDir).catch(() => [] as string[]);
    for (const fd of fds) {
      const target = await readlink(join(fdDir, fd)).catch(() => '');
      if (wanted.has(target)) return describeProcess(procRoot, Number(pid));
    }
  }
  return undefined;
}

async function describeProcess(procRoot: string, pid: number): Promise<PortHolder> {
  const name = (await readFile(join(procRoot, String(pid), 'comm'), 'utf8').catch(() => '')).trim();
  const cmdline = await readFile(join(procRoot, String(pid), 'cmdline'), 'utf8').catch(() => '');
  const argv = cmdline.split('\0').filter((a) => a !== '');
  return { pid, name: name || argv[0] || 'an unknown program', argv };
}

export interface ListenTarget {
  /** Prefix of the message, e.g. `mqtt` or `http`. */
  what: string;
  host: string;
  port: number;
  /** The config keys that set them, e.g. `mqtt.embedded_broker.port`. */
  portKey: string;
  hostKey: string;
}

/** An Error for a failed listen() that names the key to change and, if known, the port's holder. */
export async function listenError(err: NodeJS.ErrnoException, target: ListenTarget): Promise<Error> {
  let why: string;
  if (err.code === 'EADDRINUSE') {
    const holder = await findPortHolder(target.port).catch(() => undefined);
    why = holder
      ? `the port is already in use by ${holder.name} (pid ${holder.pid}); change ${target.portKey}, or stop that program`
      : `the port is already in use (another chargebridge or service?); change ${target.portKey}`;
  } else if (err.code === 'EACCES') {
    why = `permission denied (ports below 1024 need privileges); change ${target.portKey}`;
  } else if (err.code === 'EADDRNOTAVAIL') {
    why = `this machine has no such address; change ${target.hostKey}`;
  } else {
    why = `${err.message}; check ${target.hostKey} and ${target.portKey}`;
  }
  const error = new Error(`${target.what}: cannot listen on ${target.host}:${target.port}: ${why}`, {
    cause: err,
  });
  return Object.assign(error, { code: err.code });
}
