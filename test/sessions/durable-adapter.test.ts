import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as fsp from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Low } from 'lowdb';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ManualClock } from '../../src/core/clock.js';
import { DurableJsonFile, type FileProblem, StoreFileError } from '../../src/sessions/durable-adapter.js';

const schema = z.object({ version: z.literal(1), items: z.array(z.string()) });
type Doc = z.infer<typeof schema>;

let dir: string;
let path: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'cb-durable-'));
  path = join(dir, 'store.json');
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function adapter(extra: Partial<ConstructorParameters<typeof DurableJsonFile<Doc>>[0]> = {}) {
  const problems: FileProblem[] = [];
  const file = new DurableJsonFile<Doc>({
    path,
    schema,
    clock: new ManualClock(Date.UTC(2026, 0, 15, 12, 0, 0)),
    onProblem: (p) => problems.push(p),
    ...extra,
  });
  return { file, problems };
}

const readJson = (p: string) => JSON.parse(readFileSync(p, 'utf8')) as unknown;

describe('DurableJsonFile with lowdb', () => {
  it('starts empty without files and round-trips data', async () => {
    const { file, problems } = adapter();
    const db = new Low<Doc>(file, { version: 1, items: [] });
    await db.read();
    expect(db.data.items).toEqual([]);
    db.data.items.push('a');
    await db.write();
    const again = new Low<Doc>(adapter().file, { version: 1, items: [] });
    await again.read();
    expect(again.data.items).toEqual(['a']);
    expect(problems).toEqual([]);
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it('keeps the previous good file as .bak at each write', async () => {
    const { file } = adapter();
    await file.write({ version: 1, items: ['first'] });
    expect(readdirSync(dir).sort()).toEqual(['store.json']);
    await file.write({ version: 1, items: ['second'] });
    await file.write({ version: 1, items: ['third'] });
    expect(readJson(path)).toEqual({ version: 1, items: ['third'] });
    expect(readJson(`${path}.bak`)).toEqual({ version: 1, items: ['second'] });
    expect(readdirSync(dir).sort()).toEqual(['store.json', 'store.json.bak']);
  });

  it('writeSync: on disk with its .bak when it returns, read back like write(), never beside a write()', async () => {
    const { file } = adapter();
    file.writeSync({ version: 1, items: ['first'] });
    file.writeSync({ version: 1, items: ['second'] });
    expect(readJson(path)).toEqual({ version: 1, items: ['second'] });
    expect(readJson(`${path}.bak`)).toEqual({ version: 1, items: ['first'] });
    expect(readdirSync(dir).sort()).toEqual(['store.json', 'store.json.bak']);
    expect(await adapter().file.read()).toEqual({ version: 1, items: ['second'] });
    // Mixing both on one file could let an older async write land last.
    const pending = file.write({ version: 1, items: ['third'] });
    expect(() => file.writeSync({ version: 1, items: ['fourth'] })).toThrow(/while a write\(\) is running/);
    await pending;
    expect(readJson(path)).toEqual({ version: 1, items: ['third'] });
    // Where the folder is gone (a file in its place) the error names the file and keeps nothing half-done.
    const blocked = adapter({ path: join(dir, 'store.json', 'inner.json') }).file;
    expect(() => blocked.writeSync({ version: 1, items: [] })).toThrow(StoreFileError);
  });

  it('falls back to copying the backup where hard links fail', async () => {
    const { file } = adapter({
      fs: {
        link: async () => {
          throw Object.assign(new Error('no links here'), { code: 'EPERM' });
        },
      },
    });
    await file.write({ version: 1, items: ['one'] });
    await file.write({ version: 1, items: ['two'] });
    expect(readJson(`${path}.bak`)).toEqual({ version: 1, items: ['one'] });
  });

  it('leaves the last good file intact after a crash between temp write and rename', async () => {
    await adapter().file.write({ version: 1, items: ['good'] });
    // The process dies right before the rename: the temp file holds the new data, the file the old.
    const crashing = adapter({
      fs: {
        rename: async (from, to) => {
          if (String(from).includes('.tmp-') && String(to) === path) throw new Error('power cut');
          return fsp.rename(from, to);
        },
      },
    }).file;
    await expect(crashing.write({ version: 1, items: ['good', 'new'] })).rejects.toBeInstanceOf(
      StoreFileError,
    );
    expect(readJson(path)).toEqual({ version: 1, items: ['good'] });

    // A half-written temp file from an earlier crash is ignored on start and overwritten later.
    writeFileSync(`${path}.tmp`, '{"version":1,"items":["go');
    const { file, problems } = adapter();
    expect(await file.read()).toEqual({ version: 1, items: ['good'] });
    expect(problems).toEqual([]);
    await file.write({ version: 1, items: ['good', 'later'] });
    expect(readJson(path)).toEqual({ version: 1, items: ['good', 'later'] });
  });

  it('moves a corrupt file aside, reports it and loads the backup', async () => {
    const { file: writer } = adapter();
    await writer.write({ version: 1, items: ['old'] });
    await writer.write({ version: 1, items: ['old', 'newer'] });
    writeFileSync(path, '{"version":1,"items":["old","newer"'); // truncated by a bad disk
    const { file, problems } = adapter();
    expect(await file.read()).toEqual({ version: 1, items: ['old'] });
    const aside = `${path}.corrupt-20260115T120000Z`;
    expect(problems).toEqual([
      {
        kind: 'corrupt',
        file: path,
        reason: expect.stringContaining('not valid JSON'),
        movedTo: aside,
        recoveredFrom: `${path}.bak`,
        at: Date.UTC(2026, 0, 15, 12, 0, 0),
      },
    ]);
    expect(readFileSync(aside, 'utf8')).toBe('{"version":1,"items":["old","newer"');
    expect(file.problems).toEqual(problems);
    // The next write starts a new file and keeps the backup that saved us.
    await file.write({ version: 1, items: ['old', 'again'] });
    expect(readJson(`${path}.bak`)).toEqual({ version: 1, items: ['old'] });
  });

  it('treats a file that fails the schema as corrupt, and never overwrites an earlier corrupt copy', async () => {
    writeFileSync(path, JSON.stringify({ version: 1, items: [42] }));
    writeFileSync(`${path}.corrupt-20260115T120000Z`, 'earlier');
    const { file, problems } = adapter();
    expect(await file.read()).toBeNull();
    expect(problems[0]?.reason).toMatch(/items\.0/);
    expect(problems[0]?.recoveredFrom).toBeNull();
    expect(problems[0]?.movedTo).toBe(`${path}.corrupt-20260115T120000Z-1`);
    expect(readFileSync(`${path}.corrupt-20260115T120000Z`, 'utf8')).toBe('earlier');
  });

  it('moves a corrupt backup aside too when both are bad', async () => {
    writeFileSync(path, 'garbage');
    writeFileSync(`${path}.bak`, 'more garbage');
    const { file, problems } = adapter();
    expect(await file.read()).toBeNull();
    expect(problems.map((p) => [p.kind, p.movedTo])).toEqual([
      ['corrupt', `${path}.corrupt-20260115T120000Z`],
      ['backup_corrupt', `${path}.bak.corrupt-20260115T120000Z`],
    ]);
    expect(readdirSync(dir).sort()).toEqual([
      'store.json.bak.corrupt-20260115T120000Z',
      'store.json.corrupt-20260115T120000Z',
    ]);
  });

  it('reports a missing file whose backup exists and loads the backup', async () => {
    writeFileSync(`${path}.bak`, JSON.stringify({ version: 1, items: ['saved'] }));
    const { file, problems } = adapter();
    expect(await file.read()).toEqual({ version: 1, items: ['saved'] });
    expect(problems.map((p) => p.kind)).toEqual(['main_missing']);
  });

  it('read-only: reports a corrupt file but moves nothing and refuses to write', async () => {
    writeFileSync(path, 'garbage');
    writeFileSync(`${path}.bak`, JSON.stringify({ version: 1, items: ['saved'] }));
    const { file, problems } = adapter({ readOnly: true });
    expect(await file.read()).toEqual({ version: 1, items: ['saved'] });
    expect(problems[0]?.movedTo).toBeNull();
    expect(readdirSync(dir).sort()).toEqual(['store.json', 'store.json.bak']);
    await expect(file.write({ version: 1, items: [] })).rejects.toThrow(/read-only/);
  });

  it('refuses a file from a newer version without touching it', async () => {
    writeFileSync(path, JSON.stringify({ version: 9, items: [] }));
    const { file } = adapter({
      refuse: (json) =>
        (json as { version?: number }).version === 9 ? 'written by a newer chargebridge (version 9)' : null,
    });
    await expect(file.read()).rejects.toThrow(/newer chargebridge/);
    expect(readdirSync(dir)).toEqual(['store.json']);
  });

  it('gives a clear error for an unwritable folder and writes everything once it is fixed', async () => {
    const blocked = join(dir, 'data');
    writeFileSync(blocked, 'a file where the data folder should be');
    path = join(blocked, 'store.json');
    const { file } = adapter();
    const db = new Low<Doc>(file, { version: 1, items: [] });
    db.data.items.push('kept in memory');
    const error = await db.write().catch((err: unknown) => err);
    expect(error).toBeInstanceOf(StoreFileError);
    expect((error as StoreFileError).message).toMatch(/cannot write .*store\.json: .*(ENOTDIR|EEXIST)/);
    expect((error as StoreFileError).message).toMatch(/stays in memory/);

    rmSync(blocked);
    mkdirSync(blocked);
    db.data.items.push('second');
    await db.write();
    expect(readJson(path)).toEqual({ version: 1, items: ['kept in memory', 'second'] });
  });

  it('names permission problems in words', async () => {
    const { file } = adapter({
      fs: {
        open: async () => {
          throw Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' });
        },
      },
    });
    await expect(file.write({ version: 1, items: [] })).rejects.toThrow(/permission denied \(EACCES\)/);
  });

  it('leaves no temp file behind when the disk is full', async () => {
    const full = () => Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
    const { file } = adapter({
      fs: {
        // The temp file is created, then its content does not fit: as on a full disk.
        open: async (p, flags, mode) => {
          const handle = await fsp.open(p, flags, mode);
          if (flags !== 'w') return handle;
          return Object.assign(Object.create(handle) as typeof handle, {
            writeFile: async () => {
              throw full();
            },
            close: () => handle.close(),
          });
        },
      },
    });
    await file.write({ version: 1, items: ['on disk'] }).catch(() => undefined);
    expect(readdirSync(dir)).toEqual([]);
    const { file: again } = adapter();
    await again.write({ version: 1, items: ['on disk'] });
    const { file: failing } = adapter({
      fs: {
        open: async (p, flags, mode) => {
          const handle = await fsp.open(p, flags, mode);
          if (flags !== 'w') return handle;
          return Object.assign(Object.create(handle) as typeof handle, {
            sync: async () => {
              throw full();
            },
            close: () => handle.close(),
          });
        },
      },
    });
    await expect(failing.write({ version: 1, items: ['lost'] })).rejects.toThrow(/disk is full/);
    expect(readdirSync(dir)).toEqual(['store.json']);
    expect(readJson(path)).toEqual({ version: 1, items: ['on disk'] });
  });

  it('writeSync leaves no temp file behind when it fails', () => {
    const { file } = adapter();
    mkdirSync(`${path}.bak`);
    writeFileSync(path, '{"version":1,"items":[]}');
    // The backup's name is taken by a folder, so the write fails after both temp files exist.
    writeFileSync(join(`${path}.bak`, 'x'), 'x');
    expect(() => file.writeSync({ version: 1, items: ['new'] })).toThrow(StoreFileError);
    expect(readdirSync(dir).sort()).toEqual(['store.json', 'store.json.bak']);
  });

  it('writes through unique temp names and removes only its own leftovers at start', async () => {
    const opened: string[] = [];
    const { file } = adapter({
      fs: {
        open: async (p, flags, mode) => {
          if (flags === 'w') opened.push(String(p));
          return fsp.open(p, flags, mode);
        },
      },
    });
    await file.write({ version: 1, items: ['one'] });
    await file.write({ version: 1, items: ['two'] });
    expect(opened).toHaveLength(2);
    for (const temp of opened) expect(temp).toMatch(new RegExp(`^${path}\\.tmp-${process.pid}-[0-9a-f]{8}$`));
    expect(opened[0]).not.toBe(opened[1]);

    // A crash (another pid) left temp files of the file and of its backup; the user left files that
    // only look alike.
    const leftovers = ['store.json.tmp-4242-0badf00d', 'store.json.bak.tmp-4242-deadbeef'];
    const theirs = [
      'store.json.tmp',
      'store.json.tmp-notes',
      'other.json.tmp-4242-0badf00d',
      'store.json.tmp-1-xyz',
    ];
    for (const name of [...leftovers, ...theirs]) writeFileSync(join(dir, name), '');
    const { file: restarted } = adapter();
    expect(await restarted.read()).toEqual({ version: 1, items: ['two'] });
    expect(readdirSync(dir).sort()).toEqual(['store.json', 'store.json.bak', ...theirs].sort());
  });

  it('runs writes one at a time and lets the newest waiting one win', async () => {
    const order: string[] = [];
    const { file } = adapter({
      fs: {
        rename: async (from, to) => {
          if (String(to) === path) order.push((readJson(String(from)) as Doc).items.join(','));
          return fsp.rename(from, to);
        },
      },
    });
    await Promise.all([
      file.write({ version: 1, items: ['1'] }),
      file.write({ version: 1, items: ['2'] }),
      file.write({ version: 1, items: ['3'] }),
    ]);
    expect(order).toEqual(['1', '3']);
    expect(readJson(path)).toEqual({ version: 1, items: ['3'] });
  });
});
