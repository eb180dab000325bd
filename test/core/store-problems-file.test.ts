import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type StoreProblem, StoreProblems } from '../../src/core/store-problems.js';
import { keepStoreProblemsIn } from '../../src/core/store-problems-file.js';
import { silentLogger } from '../../src/log.js';

let dir: string;
let path: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'cb-problems-'));
  path = join(dir, 'store-problems.json');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const corrupt: StoreProblem = {
  kind: 'corrupt',
  file: '/data/sessions/2026-05.json',
  reason: 'not valid JSON',
  movedTo: '/data/sessions/2026-05.json.corrupt-20260601T160000Z',
  recoveredFrom: null,
  at: Date.UTC(2026, 5, 1, 16),
};
const writeFailed: StoreProblem = {
  ...corrupt,
  kind: 'write_failed',
  movedTo: null,
  reason: 'the disk is full',
};

describe('store problems kept across a restart', () => {
  it('a corrupt file stays listed after a restart until cleared; a failed write is not carried over', async () => {
    const first = new StoreProblems();
    const kept = keepStoreProblemsIn(first, path, silentLogger());
    first.add(corrupt);
    first.add(writeFailed);
    await kept.idle();

    const second = new StoreProblems();
    const keptAgain = keepStoreProblemsIn(second, path, silentLogger());
    expect(second.list()).toEqual([corrupt]);
    second.resolve(() => true);
    await keptAgain.idle();
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual({ problems: [] });

    const third = new StoreProblems();
    keepStoreProblemsIn(third, path, silentLogger());
    expect(third.list()).toEqual([]);
  });

  it('an unreadable file is ignored and replaced at the next change', async () => {
    writeFileSync(path, '{"problems":[{"kind":');
    const problems = new StoreProblems();
    const kept = keepStoreProblemsIn(problems, path, silentLogger());
    expect(problems.list()).toEqual([]);
    problems.add(corrupt);
    await kept.idle();
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual({ problems: [corrupt] });
  });

  it('the same failure again replaces the older entry; at most 20 are kept', () => {
    const problems = new StoreProblems();
    problems.add(corrupt);
    problems.add({ ...corrupt, at: corrupt.at + 1 });
    expect(problems.list()).toEqual([{ ...corrupt, at: corrupt.at + 1 }]);
    for (let i = 0; i < 30; i++) problems.add({ ...corrupt, file: `/data/sessions/f${i}.json` });
    expect(problems.list()).toHaveLength(20);
    expect(problems.list().at(-1)?.file).toBe('/data/sessions/f29.json');
  });
});
