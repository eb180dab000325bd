/**
 * `npm run bench`: runs every benchmark and writes docs/benchmarks.md.
 * `npm run bench -- decode latency` runs only the named ones and replaces just their sections in
 * docs/benchmarks.md (the others stay as they were, with the date they were measured).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { brokerBench } from './broker.bench.js';
import { daemonBench } from './daemon.bench.js';
import { daemonOcppBench } from './daemon-ocpp.bench.js';
import { decodeBench } from './decode.bench.js';
import { latencyBench } from './latency.bench.js';
import { ocppServerBench } from './ocpp-server.bench.js';
import { type Bench, type BenchSection, machineLine, renderTable } from './report.js';
import { sessionsBench } from './sessions.bench.js';
import { soakBench } from './soak.bench.js';

const ALL: Bench[] = [
  decodeBench,
  latencyBench,
  daemonBench,
  sessionsBench,
  brokerBench,
  soakBench,
  ocppServerBench,
  daemonOcppBench,
];

const REPORT = new URL('../docs/benchmarks.md', import.meta.url);
const today = () => new Date().toISOString().slice(0, 10);

function render(name: string, section: BenchSection, measuredOn: string | null): string {
  const parts = [`## ${section.title}`, '', section.method, '', renderTable(section.table), ''];
  for (const note of section.notes ?? []) parts.push(`- ${note}`);
  for (const extra of section.extraTables ?? []) parts.push('', extra.caption, '', renderTable(extra.table));
  const when = measuredOn ? ` (this section measured on ${measuredOn})` : '';
  parts.push('', `Command: \`npm run bench -- ${name}\`${when}`, '');
  return parts.join('\n');
}

/** The sections of an existing report by bench name (each ends with its `npm run bench -- <name>` line). */
function existingSections(text: string): { header: string; byName: Map<string, string> } {
  const [header = '', ...chunks] = text.split(/^(?=## )/m);
  const byName = new Map<string, string>();
  for (const chunk of chunks) {
    const name = /Command: `npm run bench -- ([\w-]+)`/.exec(chunk)?.[1];
    if (name) byName.set(name, chunk.trimEnd());
  }
  return { header: header.trimEnd(), byName };
}

async function main(): Promise<void> {
  const wanted = process.argv.slice(2);
  const unknown = wanted.filter((w) => !ALL.some((b) => b.name === w));
  if (unknown.length > 0) {
    throw new Error(`unknown bench ${unknown.join(', ')}; known: ${ALL.map((b) => b.name).join(', ')}`);
  }
  const partial = wanted.length > 0;
  const previous = partial && existsSync(REPORT) ? existingSections(readFileSync(REPORT, 'utf8')) : null;
  const fresh = new Map<string, string>();
  for (const bench of ALL.filter((b) => !partial || wanted.includes(b.name))) {
    process.stdout.write(`bench ${bench.name} …\n`);
    fresh.set(bench.name, render(bench.name, await bench.run(), previous ? today() : null));
  }
  const header =
    previous?.header ||
    [
      '# Benchmarks',
      '',
      `Produced by \`npm run bench\` on ${today()}: ${machineLine()}.`,
      'Figures are measured, not targets; tests never assert on timing. Re-run the command to refresh this file.',
    ].join('\n');
  const sections = ALL.map((b) => fresh.get(b.name) ?? previous?.byName.get(b.name)).filter(
    (s): s is string => s !== undefined,
  );
  writeFileSync(REPORT, `${[header, ...sections].join('\n\n').trimEnd()}\n`);
  process.stdout.write('wrote docs/benchmarks.md\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
