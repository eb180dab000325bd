import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DataDirError, makeDirectory, prepareDataDir } from '../../src/core/data-dir.js';

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'cb-data-dir-'));
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('prepareDataDir', () => {
  it('creates missing folders and leaves no probe file behind', () => {
    const data = join(dir, 'a', 'b', 'data');
    prepareDataDir(data);
    expect(readdirSync(data)).toEqual([]);
    prepareDataDir(data);
  });

  // Node's recursive mkdir never returns here (it spins at 100 % CPU): this test would hang.
  it('fails at once under /proc, naming data_dir and the path', () => {
    const target = `/proc/chargebridge-test-${process.pid}`;
    expect(() => prepareDataDir(target)).toThrow(DataDirError);
    expect(() => prepareDataDir(target)).toThrow(
      new RegExp(`^data_dir ${target} cannot be used: it cannot be created \\(ENOENT`),
    );
    expect(() => makeDirectory(`${target}/sessions`)).toThrow(/ENOENT/);
  });

  it('names a file in the way', () => {
    writeFileSync(join(dir, 'a-file'), 'x');
    expect(() => prepareDataDir(join(dir, 'a-file', 'data'))).toThrow(/it cannot be created \(ENOTDIR/);
  });

  it('names an existing folder it cannot write (even as root)', () => {
    expect(() => prepareDataDir('/proc/self')).toThrow(
      /^data_dir \/proc\/self cannot be used: it cannot be written \(/,
    );
  });
});
