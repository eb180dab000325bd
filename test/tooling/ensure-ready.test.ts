/**
 * scripts/ensure-ready.mjs (prestart/pretest): when it installs, when it builds, what it prints and
 * how it fails, on fake project folders. The command runner is a stand-in: nothing is installed.
 */
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  buildOutdated,
  type CommandRunner,
  dependenciesOutdated,
  ensureReady,
  npmCommand,
} from '../../scripts/ensure-ready.mjs';

type Packages = Record<string, { version?: string; optional?: boolean; dev?: boolean }>;

const LOCKED: Packages = {
  '': { version: '0.1.0' },
  'node_modules/mqtt': { version: '5.16.0' },
  'node_modules/typescript': { version: '5.9.3', dev: true },
  'node_modules/mqtt/node_modules/ws': { version: '8.18.0' },
  // Another platform's binary: in the lockfile, never installed here.
  'node_modules/@esbuild/darwin-arm64': { version: '0.25.0', optional: true, dev: true },
};

const installedFrom = (packages: Packages): Packages => {
  const { '': _root, 'node_modules/@esbuild/darwin-arm64': _other, ...rest } = packages;
  return rest;
};

const T0 = new Date('2026-06-01T08:00:00Z');
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function project(options: { locked?: Packages; installed?: Packages | null; built?: boolean } = {}) {
  const root = mkdtempSync(path.join(tmpdir(), 'cb-ensure-ready-'));
  dirs.push(root);
  const write = (rel: string, text: string, when = at(0)) => {
    const file = path.join(root, rel);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, text);
    utimesSync(file, when, when);
  };
  const locked = options.locked ?? LOCKED;
  write('package.json', '{"name":"fake"}');
  write('tsconfig.json', '{}');
  write('tsconfig.build.json', '{}');
  write('package-lock.json', JSON.stringify({ lockfileVersion: 3, packages: locked }));
  write('src/main.ts', 'export {};');
  write('src/cli/run.ts', 'export {};');
  if (options.installed !== null) {
    write(
      'node_modules/.package-lock.json',
      JSON.stringify({ lockfileVersion: 3, packages: options.installed ?? installedFrom(locked) }),
    );
  }
  if (options.built ?? true) write('dist/main.js', '', at(60));
  return { root, write };
}

/** Records the commands; each returns the next exit code given (0 when none is left). */
function runner(...codes: Array<number | null>) {
  const calls: string[][] = [];
  const run: CommandRunner = (command, args) => {
    calls.push([command, ...args]);
    return codes.length > 0 ? (codes.shift() ?? null) : 0;
  };
  return { run, calls };
}

const npmEnv = { npm_execpath: '/usr/lib/node_modules/npm/bin/npm-cli.js' };
const NPM = ['/usr/bin/node', '/usr/lib/node_modules/npm/bin/npm-cli.js'];
const NPM_CI = [...NPM, 'ci', '--include=dev', '--no-audit', '--no-fund'];
const NPM_BUILD = [...NPM, 'run', '--silent', 'build'];

function ready(root: string, build: boolean, run: CommandRunner) {
  const lines: string[] = [];
  const steps = ensureReady({
    root,
    build,
    run,
    log: (line) => lines.push(line),
    env: npmEnv,
    nodePath: '/usr/bin/node',
  });
  return { steps, lines };
}

describe('dependencies', () => {
  it('does nothing and prints nothing when node_modules matches package-lock.json', () => {
    const { root } = project();
    const { run, calls } = runner();
    expect(ready(root, false, run)).toEqual({ steps: [], lines: [] });
    expect(calls).toEqual([]);
  });

  it('runs npm ci through the npm that started it on a fresh clone', () => {
    const { root } = project({ installed: null });
    const { run, calls } = runner();
    expect(ready(root, false, run)).toEqual({
      steps: ['install'],
      lines: ['installing dependencies (node_modules is missing)…'],
    });
    expect(calls).toEqual([NPM_CI]);
  });

  it('installs when npm left no record of what it installed', () => {
    const { root } = project({ installed: null });
    mkdirSync(path.join(root, 'node_modules'), { recursive: true });
    expect(dependenciesOutdated(root)).toBe('node_modules has no record of what npm installed');
  });

  it('installs when a locked version differs from the installed one', () => {
    const { root } = project({
      installed: { ...installedFrom(LOCKED), 'node_modules/mqtt': { version: '5.15.0' } },
    });
    const { run, calls } = runner();
    expect(ready(root, false, run).lines).toEqual(['installing dependencies (package-lock.json changed)…']);
    expect(calls).toEqual([NPM_CI]);
  });

  it('installs when the lockfile gained a package, even a nested one', () => {
    const { 'node_modules/mqtt/node_modules/ws': _ws, ...withoutWs } = installedFrom(LOCKED);
    const { root } = project({ installed: withoutWs });
    expect(dependenciesOutdated(root)).toBe('package-lock.json changed');
  });

  it('installs when the lockfile dropped a package that is still installed', () => {
    const { root } = project({
      installed: { ...installedFrom(LOCKED), 'node_modules/left-pad': { version: '1.3.0' } },
    });
    expect(dependenciesOutdated(root)).toBe('package-lock.json changed');
  });

  it("ignores optional packages that are not installed (other platforms' binaries), not required ones", () => {
    expect(dependenciesOutdated(project().root)).toBeUndefined();
    const { root } = project({
      locked: { ...LOCKED, 'node_modules/@esbuild/darwin-arm64': { version: '0.25.0', dev: true } },
    });
    expect(dependenciesOutdated(root)).toBe('package-lock.json changed');
  });

  it('fails with a clear message when npm ci fails, and builds nothing', () => {
    const { root } = project({ installed: null, built: false });
    const { run, calls } = runner(1);
    expect(() => ready(root, true, run)).toThrow(
      /installing the dependencies failed: npm ci exited with code 1 \(its output is above\)/,
    );
    expect(calls).toEqual([NPM_CI]);
  });

  it('says so when npm ci was interrupted', () => {
    const { root } = project({ installed: null });
    const { run } = runner(null);
    expect(() => ready(root, false, run)).toThrow(/npm ci was interrupted/);
  });
});

describe('build (npm start only)', () => {
  it('builds when dist/ is missing, after installing', () => {
    const { root } = project({ installed: null, built: false });
    const { run, calls } = runner();
    expect(ready(root, true, run)).toEqual({
      steps: ['install', 'build'],
      lines: ['installing dependencies (node_modules is missing)…', 'building (dist/main.js is missing)…'],
    });
    expect(calls).toEqual([NPM_CI, NPM_BUILD]);
  });

  it('does not build for the tests (they run the TypeScript sources)', () => {
    const { root } = project({ built: false });
    const { run, calls } = runner();
    expect(ready(root, false, run).steps).toEqual([]);
    expect(calls).toEqual([]);
  });

  it('does nothing when dist/ is newer than src/, the tsconfigs and package.json', () => {
    const { root } = project();
    const { run, calls } = runner();
    expect(ready(root, true, run)).toEqual({ steps: [], lines: [] });
    expect(calls).toEqual([]);
  });

  it.each([
    ['src/cli/run.ts', 'src/cli/run.ts changed'],
    ['src/new-module.ts', 'src/new-module.ts changed'],
    ['tsconfig.build.json', 'tsconfig.build.json changed'],
    ['package.json', 'package.json changed'],
  ])('builds when %s is newer than the build', (file, reason) => {
    const { root, write } = project();
    write(file, '{}', at(120));
    const { run, calls } = runner();
    expect(ready(root, true, run).lines).toEqual([`building (${reason})…`]);
    expect(calls).toEqual([NPM_BUILD]);
  });

  it('fails with a clear message when the build fails, and builds again next time', () => {
    const { root, write } = project();
    write('src/main.ts', 'broken', at(120));
    // tsc writes dist/ even when it reports errors.
    const { run } = runner(2);
    const writingRun: CommandRunner = (command, args, cwd) => {
      write('dist/main.js', '', at(180));
      return run(command, args, cwd);
    };
    expect(() => ready(root, true, writingRun)).toThrow(/the build failed: npm run build exited with code 2/);
    expect(buildOutdated(root)).toBe('the last build failed');
  });
});

describe('npm itself', () => {
  it('re-runs the npm that started the script, with the same node', () => {
    expect(npmCommand(npmEnv, '/usr/bin/node')).toEqual(['/usr/bin/node', [npmEnv.npm_execpath]]);
    expect(npmCommand({ npm_execpath: '/opt/bin/npm' }, '/usr/bin/node')).toEqual(['/opt/bin/npm', []]);
  });

  it('falls back to npm from PATH when not started by npm, or started by yarn', () => {
    expect(npmCommand({}, '/usr/bin/node')).toEqual(['npm', []]);
    expect(npmCommand({ npm_execpath: '/usr/lib/node_modules/yarn/bin/yarn.js' }, '/usr/bin/node')).toEqual([
      'npm',
      [],
    ]);
  });
});
