import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as fsp from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isTempFileOf, writeFileDurably } from '../../src/core/durable-file.js';

let dir: string;
let path: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'cb-durable-file-'));
  path = join(dir, 'state.json');
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const diskFull = () => Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });

/** An fs whose temp files are created but whose content does not fit, as on a full disk. */
const fullDisk = {
  open: (async (p: string, flags: string, mode?: number) => {
    const handle = await fsp.open(p, flags, mode);
    if (flags !== 'w') return handle;
    return Object.assign(Object.create(handle) as typeof handle, {
      writeFile: async () => {
        throw diskFull();
      },
      close: () => handle.close(),
    });
  }) as typeof fsp.open,
};

describe('writeFileDurably', () => {
  it('leaves no 0-byte temp file behind when the disk is full, and keeps the old content', async () => {
    await writeFileDurably(path, 'old\n');
    await expect(writeFileDurably(path, 'new\n', { fs: fullDisk })).rejects.toMatchObject({ code: 'ENOSPC' });
    expect(readdirSync(dir)).toEqual(['state.json']);
    expect(readFileSync(path, 'utf8')).toBe('old\n');
  });

  it('uses a new temp name for each write: <file>.tmp-<pid>-<8 hex>', async () => {
    const opened: string[] = [];
    const spy = {
      open: (async (p: string, flags: string, mode?: number) => {
        if (flags === 'w') opened.push(String(p));
        return fsp.open(p, flags, mode);
      }) as typeof fsp.open,
    };
    await writeFileDurably(path, 'a', { fs: spy });
    await writeFileDurably(path, 'b', { fs: spy });
    expect(opened).toHaveLength(2);
    expect(opened[0]).not.toBe(opened[1]);
    for (const temp of opened) expect(isTempFileOf(path, temp.slice(dir.length + 1))).toBe(true);
    expect(readFileSync(path, 'utf8')).toBe('b');
  });

  // fs.mkdir's recursive mode would never settle here, holding a libuv thread at 100 % CPU.
  it('rejects a file whose folder cannot be made under /proc instead of hanging', async () => {
    await expect(
      writeFileDurably(`/proc/chargebridge-test-${process.pid}/state.json`, 'x'),
    ).rejects.toMatchObject({
      code: 'ENOENT',
    });
  });

  it("removes a crash's leftover temp files of the file at its first write, never other files", async () => {
    const leftovers = ['state.json.tmp-999999-0badf00d', 'state.json.tmp-1-00000000'];
    const theirs = [
      'state.json.tmp',
      'state.json.tmp-backup',
      'state.json.tmp-1-xyz',
      'other.json.tmp-1-00000000',
    ];
    for (const name of [...leftovers, ...theirs]) writeFileSync(join(dir, name), '');
    await writeFileDurably(path, 'x');
    expect(readdirSync(dir).sort()).toEqual(['state.json', ...theirs].sort());
  });
});
