/**
 * `npm run bench`: runs every benchmark and writes docs/benchmarks.md.
 * `npm run bench -- decode latency` runs only the named ones (and still rewrites the file with them).
 */
import { writeFileSync } from 'node:fs';
import { brokerBench } from './broker.bench.js';
import { daemonBench } from './daemon.bench.js';
import { decodeBench } from './decode.bench.js';
import { latencyBench } from './latency.bench.js';
import { ocppServerBench } from './ocpp-server.bench.js';
import { type Bench, machineLine, renderTable } from './report.js';
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
];

async function main(): Promise<void> {
  const wanted = process.argv.slice(2);
  const selected = wanted.length ? ALL.filter((b) => wanted.includes(b.name)) : ALL;
  const parts: string[] = [
    '# Benchmarks',
    '',
    `Produced by \`npm run bench\` on ${new Date().toISOString().slice(0, 10)}: ${machineLine()}.`,
    'Figures are measured, not targets; tests never assert on timing. Re-run the command to refresh this file.',
    '',
  ];
  for (const bench of selected) {
    process.stdout.write(`bench ${bench.name} …\n`);
    const section = await bench.run();
    parts.push(`## ${section.title}`, '', section.method, '', renderTable(section.table), '');
    for (const note of section.notes ?? []) parts.push(`- ${note}`);
    for (const extra of section.extraTables ?? [])
      parts.push('', extra.caption, '', renderTable(extra.table));
    parts.push('', `Command: \`npm run bench -- ${bench.name}\``, '');
  }
  writeFileSync(new URL('../docs/benchmarks.md', import.meta.url), `${parts.join('\n').trimEnd()}\n`);
  process.stdout.write('wrote docs/benchmarks.md\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
