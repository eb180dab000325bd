/** Shared shapes and helpers for benchmarks: percentiles, formatting, machine description. */
import os from 'node:os';

export interface BenchSection {
  /** Heading in docs/benchmarks.md. */
  title: string;
  /** What was measured and how, one or two sentences. */
  method: string;
  /** Markdown table rows: header first. */
  table: string[][];
  /** Observations worth a line (ratios, caveats). */
  notes?: string[];
  /** More tables after the notes (a series over time), each under its caption. */
  extraTables?: Array<{ caption: string; table: string[][] }>;
}

export interface Bench {
  name: string;
  run(): Promise<BenchSection>;
}

export function percentile(sortedValues: number[], p: number): number {
  if (sortedValues.length === 0) return Number.NaN;
  const index = Math.min(
    sortedValues.length - 1,
    Math.max(0, Math.ceil((p / 100) * sortedValues.length) - 1),
  );
  return sortedValues[index] ?? Number.NaN;
}

export function summarise(valuesMs: number[]): { p50: number; p99: number; max: number; n: number } {
  const sorted = [...valuesMs].sort((a, b) => a - b);
  return {
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted.at(-1) ?? Number.NaN,
    n: sorted.length,
  };
}

export const fmt = (value: number, digits = 2): string =>
  Number.isFinite(value)
    ? value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })
    : 'n/a';

export function machineLine(): string {
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  return `Node ${process.version}, ${os.cpus().length} × ${cpu}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.platform()} ${os.arch()}`;
}

export function renderTable(rows: string[][]): string {
  const [head, ...body] = rows;
  if (!head) return '';
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...body.map(line)].join('\n');
}
