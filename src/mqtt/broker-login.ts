/**
 * The login Home Assistant (and the daemon's own client) uses on the embedded broker. Configured in
 * `mqtt.embedded_broker.username/password`, or else created once and kept in
 * `<data_dir>/mqtt-login.json` (mode 0600), so a fresh install is never open to the LAN.
 * The daemon and `chargebridge mqtt-login` both go through resolveBrokerLogin, so they agree.
 */
import { randomBytes } from 'node:crypto';
import { chmod, link, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { EmbeddedBrokerConfig } from '../config/schema.js';
import { type Clock, systemClock } from '../core/clock.js';
import { moveAside, writeFileDurably } from '../core/durable-file.js';
import type { Logger } from '../log.js';

export const LOGIN_FILE_NAME = 'mqtt-login.json';
export const GENERATED_USERNAME = 'homeassistant';
/** 18 random bytes: 24 base64url characters, 144 bits. */
const PASSWORD_BYTES = 18;
/** The same bound the config schema puts on a configured login. */
const MAX_FIELD_LENGTH = 256;

export interface BrokerLogin {
  username: string;
  password: string;
  /** `config`: from mqtt.embedded_broker; `file`: generated, kept in `file`. */
  source: 'config' | 'file';
  /** The login file (source `file` only). */
  file?: string;
  /** True when this call created the file (the `created` inside the file is when). */
  createdNow?: boolean;
}

export interface ResolveLoginOptions {
  broker: Pick<EmbeddedBrokerConfig, 'username' | 'password'>;
  dataDir: string;
  logger: Logger;
  clock?: Clock;
}

export function loginFilePath(dataDir: string): string {
  return path.join(dataDir, LOGIN_FILE_NAME);
}

/** The configured login when there is one, else the one in the data folder (created when missing). */
export async function resolveBrokerLogin(options: ResolveLoginOptions): Promise<BrokerLogin> {
  const { username, password } = options.broker;
  if (username !== undefined && password !== undefined) return { username, password, source: 'config' };
  return loadOrCreateLoginFile(loginFilePath(options.dataDir), options.logger, options.clock ?? systemClock);
}

async function loadOrCreateLoginFile(file: string, logger: Logger, clock: Clock): Promise<BrokerLogin> {
  const log = logger.child({ component: 'broker-login' });
  const existing = await readLoginFile(file);
  if (existing.kind === 'ok') {
    await keepPrivate(file, log);
    return { ...existing.login, source: 'file', file, createdNow: false };
  }
  if (existing.kind === 'damaged') {
    const aside = await moveAside(file, clock.now());
    // The old password may still be in Home Assistant: say what to do, never the password itself.
    log.error(
      { file, movedTo: aside, problem: existing.problem },
      'the broker login file could not be read; it was moved aside and a new login created: give Home Assistant the new password (chargebridge mqtt-login shows it)',
    );
  }
  const created = await createLoginFile(file, clock);
  if (created.createdNow)
    log.info(
      { file, username: created.username },
      'created a login for Home Assistant on the embedded broker (chargebridge mqtt-login shows it)',
    );
  return created;
}

type ReadResult =
  | { kind: 'ok'; login: { username: string; password: string } }
  | { kind: 'missing' }
  | { kind: 'damaged'; problem: string };

async function readLoginFile(file: string): Promise<ReadResult> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'missing' };
    // Unreadable for us (permissions, a folder): replacing it would lock Home Assistant out.
    throw new Error(
      `cannot read the broker login ${file}: ${(err as Error).message}; it must be a file readable by the user chargebridge runs as`,
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { kind: 'damaged', problem: 'not valid JSON' };
  }
  const record = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
  for (const key of ['username', 'password'] as const) {
    const field = record[key];
    if (typeof field !== 'string' || field === '' || field.length > MAX_FIELD_LENGTH)
      return { kind: 'damaged', problem: `no valid "${key}"` };
  }
  return { kind: 'ok', login: { username: record.username as string, password: record.password as string } };
}

/**
 * Written to a private temp file, then linked into place only if no file is there yet: the daemon
 * and `chargebridge mqtt-login` starting together end up with one login, not two.
 */
async function createLoginFile(file: string, clock: Clock): Promise<BrokerLogin> {
  const login = { username: GENERATED_USERNAME, password: randomBytes(PASSWORD_BYTES).toString('base64url') };
  const body = `${JSON.stringify({ ...login, created: new Date(clock.now()).toISOString() }, null, 2)}\n`;
  const temp = `${file}.new-${process.pid}-${randomBytes(4).toString('hex')}`;
  await writeFileDurably(temp, body);
  try {
    await link(temp, file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') {
      // Someone else created it first: theirs is the login.
      await unlink(temp);
      const theirs = await readLoginFile(file);
      if (theirs.kind === 'ok') return { ...theirs.login, source: 'file', file, createdNow: false };
      throw new Error(`the broker login ${file} appeared while creating it, but cannot be used`);
    }
    // Filesystems without hard links (FAT, some network shares): a plain rename, still atomic.
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'EXDEV') throw err;
    await rename(temp, file);
    await syncFolder(file);
    return { ...login, source: 'file', file, createdNow: true };
  }
  await unlink(temp);
  // The new name must survive a power cut too, or the next start would make a second login.
  await syncFolder(file);
  return { ...login, source: 'file', file, createdNow: true };
}

async function syncFolder(file: string): Promise<void> {
  const dir = await open(path.dirname(file), 'r');
  try {
    await dir.sync();
  } catch {
    // Some filesystems refuse fsync on a directory.
  } finally {
    await dir.close();
  }
}

/** A copied or restored file may have lost its 0600: the password is only for its owner. */
async function keepPrivate(file: string, log: Logger): Promise<void> {
  if (process.platform === 'win32') return;
  const mode = (await stat(file)).mode & 0o777;
  if ((mode & 0o077) === 0) return;
  try {
    await chmod(file, 0o600);
    log.warn(
      { file, mode: mode.toString(8) },
      'the broker login file was readable by others; set it to 0600',
    );
  } catch (err) {
    log.warn(
      { file, mode: mode.toString(8), err: (err as Error).message },
      'the broker login file is readable by others and could not be set to 0600',
    );
  }
}
