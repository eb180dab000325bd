/**
 * The Prometheus text exposition format, version 0.0.4: `# HELP` and `# TYPE` per family, then one
 * line per sample, `name{label="value",...} number`. Label values and help text come partly from
 * the user (charger ids, error names), so they are escaped here and nowhere else.
 */

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export type MetricType = 'counter' | 'gauge';

export interface Sample {
  labels?: Readonly<Record<string, string>>;
  value: number;
}

export interface MetricFamily {
  name: string;
  help: string;
  type: MetricType;
  samples: readonly Sample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** `\` and line breaks; the format gives HELP text no other escapes. */
export function escapeHelp(text: string): string {
  return text.replaceAll('\\', '\\\\').replaceAll('\n', '\\n');
}

/** `\`, `"` and line breaks, as the format requires inside a quoted label value. */
export function escapeLabelValue(value: string): string {
  return value.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n');
}

/** Go's ParseFloat spellings for the special values; plain JavaScript numbers otherwise. */
export function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return '+Inf';
  if (value === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(value);
}

function labelText(labels: Readonly<Record<string, string>> | undefined, family: string): string {
  if (!labels) return '';
  const names = Object.keys(labels);
  if (names.length === 0) return '';
  const parts = names.map((name) => {
    if (!LABEL_NAME.test(name) || name.startsWith('__')) {
      throw new Error(`metric ${family}: invalid label name ${JSON.stringify(name)}`);
    }
    return `${name}="${escapeLabelValue(labels[name] ?? '')}"`;
  });
  return `{${parts.join(',')}}`;
}

/**
 * The whole exposition. Families without samples are left out. Throws on our own mistakes (bad or
 * repeated names, a counter without `_total`, the same label set twice), never on label values.
 */
export function renderExposition(families: readonly MetricFamily[]): string {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const family of families) {
    const { name, type } = family;
    if (!METRIC_NAME.test(name)) throw new Error(`invalid metric name ${JSON.stringify(name)}`);
    if (seen.has(name)) throw new Error(`metric ${name} is listed twice`);
    seen.add(name);
    // 0.0.4 has no separate family name: the counter's samples carry the `_total` suffix themselves.
    if (type === 'counter' && !name.endsWith('_total')) throw new Error(`counter ${name} must end in _total`);
    if (family.samples.length === 0) continue;
    out.push(`# HELP ${name} ${escapeHelp(family.help)}`, `# TYPE ${name} ${type}`);
    const labelSets = new Set<string>();
    for (const sample of family.samples) {
      const labels = labelText(sample.labels, name);
      if (labelSets.has(labels)) throw new Error(`metric ${name} has the label set ${labels || '{}'} twice`);
      labelSets.add(labels);
      out.push(`${name}${labels} ${formatValue(sample.value)}`);
    }
  }
  return out.length === 0 ? '' : `${out.join('\n')}\n`;
}
