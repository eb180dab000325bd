/**
 * Readable lines for a terminal: `HH:MM:SS.mmm LEVEL component: message key=value …`, local time,
 * coloured level, and the stacks of logged errors underneath when debugging.
 */
import { type LogRecord, levelName } from './record.js';

const RESET = '\x1b[0m';
const DIM = '\x1b[2m';
const CYAN = '\x1b[36m';
const LEVEL_COLOURS: Readonly<Record<number, string>> = {
  10: '\x1b[90m', // trace: grey
  20: '\x1b[34m', // debug: blue
  30: '\x1b[32m', // info: green
  40: '\x1b[33m', // warn: yellow
  50: '\x1b[31m', // error: red
  60: '\x1b[1;35m', // fatal: bold magenta
};

export interface PrettyOptions {
  colour: boolean;
  showStacks: boolean;
}

export function prettyLine(record: LogRecord, options: PrettyOptions): string {
  const paint = (code: string, text: string): string => (options.colour ? `${code}${text}${RESET}` : text);
  const parts: string[] = [];
  if (record.time !== undefined) parts.push(paint(DIM, clockTime(record.time)));
  parts.push(paint(LEVEL_COLOURS[record.level] ?? '', levelName(record.level).toUpperCase().padEnd(5)));
  if (record.component) parts.push(paint(CYAN, `${record.component}:`));
  if (record.msg) parts.push(record.msg);
  for (const [key, value] of record.fields) parts.push(`${paint(DIM, `${key}=`)}${value}`);
  let text = parts.join(' ');
  if (options.showStacks) for (const stack of record.stacks) text += `\n${indent(stack)}`;
  return `${text}\n`;
}

/** Local wall-clock time (the process zone, which `run` sets to the configured timezone). */
function clockTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}.${String(d.getMilliseconds()).padStart(3, '0')}`;
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((line) => `    ${line}`)
    .join('\n');
}
