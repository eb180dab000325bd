/**
 * Reads what the daemon left in its data folder, the way a user inspecting it would: the session
 * files and the OCPP client's offline queue, each checked against the schema the daemon itself
 * reads them with. A file that does not parse is an error naming it; temp files of a write that
 * never finished are listed apart, as are files moved aside.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { z } from 'zod';
import { type Journal, journalSchema } from '../../src/ocpp/client/offline-queue.js';
import { openSessionsFileSchema, type SessionRecord, sessionsFileSchema } from '../../src/sessions/record.js';
import { OPEN_SESSIONS_FILE, SESSIONS_DIR } from '../../src/sessions/store.js';

/** The daemon's session folder: `sessions/` in the data folder. */
export function sessionFolder(dataDir: string): string {
  return path.join(dataDir, SESSIONS_DIR);
}

export interface SessionFiles {
  /** Closed sessions from the month files, file by file. */
  closed: SessionRecord[];
  /** Sessions in open.json that are not closed already (the store drops those at load). */
  open: SessionRecord[];
  /** `*.tmp-<pid>-<hex>`: a write cut short; the daemon never reads them and removes them at start. */
  unfinished: string[];
  /** `*.corrupt-*`: files the daemon moved aside. */
  aside: string[];
  /** Every name in the folder. */
  names: string[];
}

function parseFile<T>(file: string, schema: z.ZodType<T>): T {
  const text = readFileSync(file, 'utf8');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new Error(`${file} is not JSON (${(err as Error).message}): ${text.slice(0, 200)}`);
  }
  const checked = schema.safeParse(json);
  if (!checked.success) throw new Error(`${file} does not match its schema: ${checked.error.message}`);
  return checked.data;
}

/** Throws on any month file, open.json or `.bak` that does not parse. */
export function readSessionFiles(dataDir: string): SessionFiles {
  const folder = sessionFolder(dataDir);
  const names = existsSync(folder) ? readdirSync(folder).sort() : [];
  const closed: SessionRecord[] = [];
  let open: SessionRecord[] = [];
  for (const name of names) {
    const file = path.join(folder, name);
    if (/^\d{4}-\d{2}\.json$/.test(name)) closed.push(...parseFile(file, sessionsFileSchema).sessions);
    else if (/^\d{4}-\d{2}\.json\.bak$/.test(name)) parseFile(file, sessionsFileSchema);
    else if (name === OPEN_SESSIONS_FILE) open = parseFile(file, openSessionsFileSchema).sessions;
    else if (name === `${OPEN_SESSIONS_FILE}.bak`) parseFile(file, openSessionsFileSchema);
  }
  const closedIds = new Set(closed.map((r) => r.id));
  return {
    closed,
    open: open.filter((r) => !closedIds.has(r.id)),
    unfinished: names.filter((n) => /\.tmp-\d+-[0-9a-f]{8}$/.test(n)),
    aside: names.filter((n) => n.includes('.corrupt-')),
    names,
  };
}

/** `<data_dir>/ocpp-upstream/<charger>.queue.json`. */
export function queueFile(dataDir: string, chargerId: string): string {
  return path.join(dataDir, 'ocpp-upstream', `${chargerId}.queue.json`);
}

/** The offline queue journal (null when not written yet); throws when it or its `.bak` does not parse. */
export function readQueueFile(dataDir: string, chargerId: string): Journal | null {
  const file = queueFile(dataDir, chargerId);
  if (existsSync(`${file}.bak`)) parseFile(`${file}.bak`, journalSchema);
  return existsSync(file) ? parseFile(file, journalSchema) : null;
}
