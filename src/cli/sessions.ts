/**
 * `chargebridge sessions list|export [--month YYYY-MM] [--user NAME] [--charger ID] [--format csv|json]`
 * reads the session history from the configured data folder and prints it: `list` as a table (or
 * CSV/JSON with --format), `export` as an expense-report-ready CSV (default) or JSON. Read-only: it
 * never writes, moves or repairs the store, so it is safe while the daemon runs.
 */
import { ConfigError } from '../config/errors.js';
import { loadConfig } from '../config/load.js';
import { formatZonedIso, monthRange } from '../core/zoned-time.js';
import { StoreFileError } from '../sessions/durable-adapter.js';
import { sessionsToCsv, sessionsToJson, totalsByUserAndMonth } from '../sessions/export.js';
import type { SessionRecord } from '../sessions/record.js';
import { type SessionFilter, SessionStore } from '../sessions/store.js';
import { sessionDataDirForReading } from '../sessions/store-location.js';

export interface TextOutput {
  write(text: string): void;
}

const USAGE = `usage: chargebridge sessions list|export [options]
  --month YYYY-MM        only sessions that started in this month (local time)
  --user NAME            only this user's sessions
  --charger ID           only this charger's sessions
  --format csv|json      list: a table by default; export: csv by default
  --config <file>        the configuration file (default ./data/configuration.yaml)
`;

interface SessionsArgs {
  command: 'list' | 'export';
  filter: SessionFilter;
  shown: Record<string, string>;
  format: 'table' | 'csv' | 'json';
}

function parseArgs(args: readonly string[]): SessionsArgs | string {
  const [command, ...rest] = args;
  if (command !== 'list' && command !== 'export') return `unknown sessions command: ${command ?? '(none)'}`;
  const filter: SessionFilter = {};
  const shown: Record<string, string> = {};
  let format: SessionsArgs['format'] = command === 'list' ? 'table' : 'csv';
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i]!;
    const eq = arg.indexOf('=');
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    const takeValue = (): string | null => {
      if (eq > 0) return arg.slice(eq + 1);
      const next = rest[i + 1];
      if (next === undefined || next.startsWith('--')) return null;
      i++;
      return next;
    };
    if (!['--month', '--user', '--charger', '--format', '--config'].includes(name))
      return `unknown option: ${arg}`;
    const value = takeValue();
    if (value === null || value === '') return `${name} needs a value`;
    switch (name) {
      case '--month':
        if (!/^\d{4}-(0[1-9]|1[0-2])$/.test(value))
          return `--month must be YYYY-MM, e.g. 2026-01; got ${value}`;
        filter.month = value;
        shown.month = value;
        break;
      case '--user':
        filter.user = value;
        shown.user = value;
        break;
      case '--charger':
        filter.chargerId = value;
        shown.charger = value;
        break;
      case '--format':
        if (value !== 'csv' && value !== 'json') return `--format must be csv or json; got ${value}`;
        format = value;
        break;
      default:
        break; // --config: read by the config loader
    }
  }
  return { command, filter, shown, format };
}

export async function runSessions(
  args: string[],
  out: TextOutput,
  env: NodeJS.ProcessEnv = process.env,
  err: TextOutput = { write: (text) => void process.stderr.write(text) },
): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    out.write(USAGE);
    return 0;
  }
  const parsed = parseArgs(args);
  if (typeof parsed === 'string') {
    err.write(`${parsed}\n\n${USAGE}`);
    return 2;
  }
  let store: SessionStore;
  let timeZone: string;
  try {
    const { config } = loadConfig({ args, env });
    timeZone = config.timezone;
    store = await SessionStore.open({
      dataDir: sessionDataDirForReading(config.dataDir),
      timeZone,
      readOnly: true,
    });
  } catch (error) {
    if (error instanceof ConfigError || error instanceof StoreFileError) {
      err.write(`${error.message}\n`);
      return 1;
    }
    throw error;
  }
  for (const problem of store.problems) {
    err.write(
      `warning: ${problem.file}: ${problem.reason}; ${problem.recoveredFrom ? `showing the last good copy ${problem.recoveredFrom}` : 'its sessions are missing from this output'} (the daemon moves it aside and reports it at its next start)\n`,
    );
  }
  if (parsed.filter.month !== undefined && !monthRange(parsed.filter.month, timeZone)) {
    err.write(`--month: ${parsed.filter.month} is not a month\n`);
    return 2;
  }
  const records = store.query(parsed.filter);
  if (parsed.format === 'csv') out.write(sessionsToCsv(records, timeZone));
  else if (parsed.format === 'json') {
    out.write(
      `${JSON.stringify(sessionsToJson(records, { timeZone, nowMs: Date.now(), filters: parsed.shown }), null, 2)}\n`,
    );
  } else out.write(renderTable(records, timeZone));
  const open = store.openSessions().length;
  if (open > 0 && parsed.format === 'table') {
    out.write(`\n${open} session${open === 1 ? ' is' : 's are'} still open and not listed.\n`);
  }
  return 0;
}

function renderTable(records: readonly SessionRecord[], timeZone: string): string {
  if (records.length === 0) return 'No sessions.\n';
  const rows: string[][] = [['start', 'charger', 'user', 'energy kWh', 'minutes', 'cost', 'stop reason']];
  for (const r of records) {
    rows.push([
      formatZonedIso(r.startedAt, timeZone).slice(0, 16).replace('T', ' '),
      r.chargerId,
      r.user ?? (r.idTag ? `tag ${r.idTag}${r.idTagKnown === false ? ' (unknown)' : ''}` : '-'),
      r.energyKwh?.toFixed(3) ?? '-',
      r.endedAt === null ? '-' : String(Math.round((r.endedAt - r.startedAt) / 60_000)),
      r.cost ? `${r.cost.total.toFixed(2)} ${r.cost.currency}` : '-',
      r.stopReason ?? '-',
    ]);
  }
  const totals: string[][] = [['month', 'user', 'sessions', 'energy kWh', 'cost']];
  for (const t of totalsByUserAndMonth(records, timeZone)) {
    totals.push([
      t.month,
      t.user,
      String(t.sessions),
      t.energyKwh.toFixed(3),
      t.cost === null ? '-' : `${t.cost.toFixed(2)} ${t.currency}`,
    ]);
  }
  return `${align(rows)}\nTotals\n${align(totals)}`;
}

function align(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return (
    rows
      .map((r) =>
        r
          .map((cell, c) => cell.padEnd(widths[c] ?? 0))
          .join('  ')
          .trimEnd(),
      )
      .join('\n') + '\n'
  );
}
