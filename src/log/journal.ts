/**
 * Lines for systemd's journal: `<N>component: message key=value …`. The sd-daemon `<N>` prefix sets
 * the entry's priority (so `journalctl -p warning` works); journald adds the time itself. Every
 * physical line gets the prefix, since journald makes each one its own entry.
 */
import type { LogRecord } from './record.js';

export function journalPriority(level: number): number {
  if (level >= 60) return 2; // crit
  if (level >= 50) return 3; // err
  if (level >= 40) return 4; // warning
  if (level >= 30) return 6; // info
  return 7; // debug (pino's debug and trace)
}

export function journalLine(record: LogRecord, options: { showStacks: boolean }): string {
  const parts: string[] = [];
  if (record.component) parts.push(`${record.component}:`);
  if (record.msg) parts.push(record.msg);
  for (const [key, value] of record.fields) parts.push(`${key}=${value}`);
  const lines = parts.join(' ').split('\n');
  if (options.showStacks) for (const stack of record.stacks) lines.push(...stack.split('\n'));
  const prefix = `<${journalPriority(record.level)}>`;
  return `${lines.map((line, i) => (i === 0 ? prefix + line : `${prefix}  ${line}`)).join('\n')}\n`;
}
