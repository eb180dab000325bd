/**
 * Lists, right before vitest's summary, the suites a run skipped because a system program is
 * missing, grouped by program, and the one command that installs them all. Goes before 'default' in
 * the reporters: vitest calls reporters in order and this one prints at once.
 *
 * Which program a skipped suite lacked comes from has() (system-programs.ts): each "no" during
 * collection is noted in the test file's meta with the line that asked. A skipped suite or test on
 * that line is the one it decided (describe.skipIf(!has(...)) and describeEach() ask on the suite's
 * line); a note with no suite on its line (`const ok = has('paho')` at the top) covers the skipped
 * suites below it.
 */
import type { Reporter, TestCase, TestModule, TestSuite, Vitest } from 'vitest/node';
import { installCommand, type MissingNote, PROGRAMS, type SystemProgram } from './system-programs.js';

type Task = TestSuite | TestCase;

export interface SkippedEntry {
  readonly program: SystemProgram;
  /** `test/file.test.ts > suite name` */
  readonly where: string;
  readonly tests: number;
}

export default class SkippedProgramsReporter implements Reporter {
  private vitest: Vitest | undefined;

  onInit(vitest: Vitest): void {
    this.vitest = vitest;
  }

  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const report = formatSkipReport(skippedForPrograms(testModules));
    if (!report) return;
    // The logger, not stdout: the default reporter's live window would draw over a plain write.
    if (this.vitest) this.vitest.logger.log(report);
    else console.log(report);
  }
}

/** Every skipped suite (or test) that a missing program explains, with the program. */
export function skippedForPrograms(testModules: ReadonlyArray<TestModule>): SkippedEntry[] {
  const entries: SkippedEntry[] = [];
  for (const module of testModules) {
    const notes = module.meta().missingPrograms ?? [];
    if (notes.length === 0) continue;
    const skipped = allTasks(module).filter((t) => t.options.mode === 'skip');
    const attributed = new Map<Task, Set<SystemProgram>>();
    const add = (task: Task, program: SystemProgram) => {
      const set = attributed.get(task) ?? new Set();
      set.add(program);
      attributed.set(task, set);
    };
    const unmatched: MissingNote[] = [];
    for (const note of notes) {
      const onItsLine = skipped.filter((t) => note.line !== undefined && t.location?.line === note.line);
      for (const task of onItsLine) add(task, note.program);
      if (onItsLine.length === 0) unmatched.push(note);
    }
    // A note asked away from any suite: the skipped suites after it, up to the next such note.
    for (const task of skipped.filter((t) => !isSkipped(t.parent) && !touches(t, attributed))) {
      const line = task.location?.line;
      const before = unmatched.filter((n) => n.line === undefined || line === undefined || n.line < line);
      const nearest = Math.max(...before.map((n) => n.line ?? Number.NEGATIVE_INFINITY));
      for (const note of before) {
        if ((note.line ?? Number.NEGATIVE_INFINITY) === nearest) add(task, note.program);
      }
    }
    for (const [task, programs] of attributed) {
      if (hasAncestorIn(task, attributed)) continue; // listed with its skipped parent
      const tests = task.type === 'test' ? 1 : [...task.children.allTests()].length;
      for (const program of programs) {
        entries.push({ program, where: `${module.relativeModuleId} > ${task.fullName}`, tests });
      }
    }
  }
  return entries;
}

/** The text printed before the summary; empty when nothing was skipped for a missing program. */
export function formatSkipReport(entries: readonly SkippedEntry[]): string {
  if (entries.length === 0) return '';
  const programs = [...new Set(entries.map((e) => e.program))].sort();
  const lines = ['', ' Skipped because a system program is missing:'];
  for (const program of programs) {
    const info = PROGRAMS[program];
    lines.push(`   ${info.aptPackage} is not installed (${info.purpose}):`);
    const listed = entries.filter((e) => e.program === program).sort((a, b) => (a.where < b.where ? -1 : 1));
    for (const entry of listed) {
      lines.push(`     ${entry.where} (${entry.tests} ${entry.tests === 1 ? 'test' : 'tests'})`);
    }
  }
  lines.push(` Install with: ${installCommand(programs)}`, '');
  return lines.join('\n');
}

function allTasks(parent: TestModule | TestSuite): Task[] {
  const tasks: Task[] = [];
  for (const child of parent.children) {
    tasks.push(child);
    if (child.type === 'suite') tasks.push(...allTasks(child));
  }
  return tasks;
}

function isSkipped(task: TestSuite | TestModule): boolean {
  return task.type === 'suite' && task.options.mode === 'skip';
}

function hasAncestorIn(task: Task, set: Map<Task, unknown>): boolean {
  for (let p = task.parent; p.type === 'suite'; p = p.parent) if (set.has(p)) return true;
  return false;
}

/** Already explained: the task, one of its ancestors or one of its descendants was attributed. */
function touches(task: Task, attributed: Map<Task, unknown>): boolean {
  if (attributed.has(task) || hasAncestorIn(task, attributed)) return true;
  return task.type === 'suite' && allTasks(task).some((t) => attributed.has(t));
}
