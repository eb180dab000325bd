/**
 * A strict reader of the Prometheus text format 0.0.4 for tests: every line must be a HELP, a TYPE
 * or a sample of the family announced just before it, label values are unescaped, and anything else
 * fails loudly. Independent of the writer on purpose (character by character, no shared regexes).
 */

export interface ParsedSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface ParsedFamily {
  name: string;
  help: string;
  type: string;
  samples: ParsedSample[];
}

const NAME_START = /[a-zA-Z_:]/;
const NAME_REST = /[a-zA-Z0-9_:]/;

function unescapeHelp(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '\\') {
      const next = text[++i];
      if (next === '\\') out += '\\';
      else if (next === 'n') out += '\n';
      else out += `\\${next ?? ''}`;
    } else out += ch;
  }
  return out;
}

function parseSample(line: string, lineNo: number): ParsedSample {
  let i = 0;
  const fail = (why: string): never => {
    throw new Error(`line ${lineNo}: ${why}: ${JSON.stringify(line)}`);
  };
  if (!NAME_START.test(line[0] ?? '')) fail('bad metric name start');
  while (i < line.length && NAME_REST.test(line[i] ?? '')) i++;
  const name = line.slice(0, i);
  const labels: Record<string, string> = {};
  if (line[i] === '{') {
    i++;
    while (line[i] !== '}') {
      const start = i;
      while (i < line.length && /[a-zA-Z0-9_]/.test(line[i] ?? '')) i++;
      const label = line.slice(start, i);
      if (!label || /^[0-9]/.test(label)) fail('bad label name');
      if (line[i++] !== '=' || line[i++] !== '"') fail('expected ="');
      let value = '';
      for (;;) {
        const ch = line[i++];
        if (ch === undefined) fail('unterminated label value');
        if (ch === '"') break;
        if (ch === '\\') {
          const next = line[i++];
          if (next === '\\') value += '\\';
          else if (next === '"') value += '"';
          else if (next === 'n') value += '\n';
          else fail('bad escape in label value');
        } else value += ch;
      }
      if (label in labels) fail(`label ${label} twice`);
      labels[label] = value;
      if (line[i] === ',') i++;
      else if (line[i] !== '}') fail('expected , or }');
    }
    i++;
  }
  if (line[i] !== ' ') fail('expected a space before the value');
  const rest = line.slice(i + 1);
  if (rest.includes(' ')) fail('timestamps are not expected');
  const value =
    rest === 'NaN'
      ? Number.NaN
      : rest === '+Inf'
        ? Number.POSITIVE_INFINITY
        : rest === '-Inf'
          ? -Infinity
          : Number(rest);
  if (rest === '' || (Number.isNaN(value) && rest !== 'NaN')) fail('bad value');
  return { name, labels, value };
}

export function parseExposition(text: string): Map<string, ParsedFamily> {
  if (text.length > 0 && !text.endsWith('\n')) throw new Error('the exposition must end with a line feed');
  const families = new Map<string, ParsedFamily>();
  let current: ParsedFamily | undefined;
  const lines = text.split('\n');
  lines.pop();
  lines.forEach((line, index) => {
    const lineNo = index + 1;
    if (line.startsWith('# HELP ')) {
      const rest = line.slice('# HELP '.length);
      const space = rest.indexOf(' ');
      const name = space === -1 ? rest : rest.slice(0, space);
      if (families.has(name)) throw new Error(`line ${lineNo}: family ${name} appears twice`);
      current = {
        name,
        help: space === -1 ? '' : unescapeHelp(rest.slice(space + 1)),
        type: 'untyped',
        samples: [],
      };
      families.set(name, current);
      return;
    }
    if (line.startsWith('# TYPE ')) {
      const [name, type, extra] = line.slice('# TYPE '.length).split(' ');
      if (!current || current.name !== name) throw new Error(`line ${lineNo}: TYPE without its HELP line`);
      if (current.samples.length > 0) throw new Error(`line ${lineNo}: TYPE after samples`);
      if (
        !type ||
        extra !== undefined ||
        !['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(type)
      ) {
        throw new Error(`line ${lineNo}: bad TYPE line`);
      }
      current.type = type;
      return;
    }
    if (line.startsWith('#') || line.trim() === '') throw new Error(`line ${lineNo}: unexpected line`);
    const sample = parseSample(line, lineNo);
    if (!current || sample.name !== current.name) {
      throw new Error(`line ${lineNo}: sample ${sample.name} outside its family`);
    }
    current.samples.push(sample);
  });
  return families;
}

/** The value of the one sample of `name` whose labels include `labels`; throws if not exactly one. */
export function sampleValue(
  families: Map<string, ParsedFamily>,
  name: string,
  labels: Record<string, string> = {},
): number {
  const matches = (families.get(name)?.samples ?? []).filter((s) =>
    Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
  if (matches.length !== 1) {
    throw new Error(`${matches.length} samples of ${name} match ${JSON.stringify(labels)}`);
  }
  return matches[0]!.value;
}

/** Whether `name` has a sample with these labels. */
export function hasSample(
  families: Map<string, ParsedFamily>,
  name: string,
  labels: Record<string, string>,
): boolean {
  return (families.get(name)?.samples ?? []).some((s) =>
    Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
}
