#!/usr/bin/env node
/**
 * Runs before `npm start` (with --build) and `npm test` so a fresh clone needs no set-up of its own:
 * installs the dependencies when node_modules does not match package-lock.json, and builds dist/
 * when it is missing or older than its sources. Prints one line per step it takes, nothing when
 * nothing is needed.
 *
 * Plain Node with no dependencies: it runs before they are installed.
 *
 *   node scripts/ensure-ready.mjs [--build]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, utimesSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The build's output that `npm start` runs; tsc rewrites every output, so its age is the build's. */
const BUILD_STAMP = path.join('dist', 'main.js');

/**
 * Why `npm ci` is needed, or undefined when node_modules matches package-lock.json. npm keeps what
 * it installed in node_modules/.package-lock.json; its entries are compared with the lockfile's
 * (a path and a version each).
 */
export function dependenciesOutdated(root) {
  if (!existsSync(path.join(root, 'node_modules'))) return 'node_modules is missing';
  const installed = readJson(path.join(root, 'node_modules', '.package-lock.json'))?.packages;
  if (!installed) return 'node_modules has no record of what npm installed';
  const wanted = readJson(path.join(root, 'package-lock.json'))?.packages;
  // npm ci explains a missing or broken lockfile better than we could.
  if (!wanted) return 'package-lock.json is missing or unreadable';
  for (const [where, entry] of Object.entries(wanted)) {
    if (where === '') continue; // the project itself
    const have = installed[where];
    if (!have) {
      // Optional packages for other platforms (esbuild's, biome's) are never installed here.
      if (entry.optional) continue;
      return 'package-lock.json changed';
    }
    if (have.version !== entry.version || Boolean(have.link) !== Boolean(entry.link)) {
      return 'package-lock.json changed';
    }
  }
  for (const where of Object.keys(installed)) {
    if (!(where in wanted)) return 'package-lock.json changed';
  }
  return undefined;
}

/** Why `npm run build` is needed, or undefined when dist/ is newer than everything it is built from. */
export function buildOutdated(root) {
  const built = mtime(path.join(root, BUILD_STAMP));
  if (built === undefined) return `${BUILD_STAMP} is missing`;
  if (built === 0) return 'the last build failed';
  const inputs = [
    ...filesUnder(path.join(root, 'src')),
    ...readdirSync(root)
      .filter((name) => /^tsconfig.*\.json$/.test(name) || name === 'package.json')
      .map((name) => path.join(root, name)),
  ];
  for (const file of inputs) {
    if ((mtime(file) ?? 0) > built) return `${path.relative(root, file)} changed`;
  }
  return undefined;
}

/**
 * The npm that runs this script (npm sets npm_execpath to its CLI script), else `npm` from PATH.
 * Returns the command and the arguments that come before npm's own.
 */
export function npmCommand(env = process.env, nodePath = process.execPath) {
  const cli = env.npm_execpath;
  // Under yarn or pnpm npm_execpath is theirs; `npm ci` needs npm itself.
  if (cli && /(^|[\\/])npm(-cli)?(\.[cm]?js)?$/.test(cli)) {
    return /\.[cm]?js$/.test(cli) ? [nodePath, [cli]] : [cli, []];
  }
  return ['npm', []];
}

/**
 * Installs and builds what is out of date. `run(command, args, cwd)` runs a command with the
 * output shown and returns its exit code (tests pass their own); `log` gets the step lines.
 * Throws with a message for the user when a step fails.
 */
export function ensureReady({
  root = ROOT,
  build = false,
  run = runInherited,
  log = (line) => console.log(line),
  env = process.env,
  nodePath = process.execPath,
} = {}) {
  const steps = [];
  const [npm, npmArgs] = npmCommand(env, nodePath);
  const installReason = dependenciesOutdated(root);
  if (installReason) {
    log(`installing dependencies (${installReason})…`);
    // --include=dev: building and testing need the dev dependencies even when NODE_ENV=production.
    const code = run(npm, [...npmArgs, 'ci', '--include=dev', '--no-audit', '--no-fund'], root);
    if (code !== 0) {
      throw new Error(
        `installing the dependencies failed: npm ci ${exitText(code)} (its output is above). ` +
          'Fix the cause, then run the command again.',
      );
    }
    steps.push('install');
  }
  if (build) {
    const buildReason = buildOutdated(root);
    if (buildReason) {
      log(`building (${buildReason})…`);
      const code = run(npm, [...npmArgs, 'run', '--silent', 'build'], root);
      if (code !== 0) {
        // tsc writes its output even when it reports errors: date it back so the next run builds again.
        markStale(path.join(root, BUILD_STAMP));
        throw new Error(`the build failed: npm run build ${exitText(code)} (its output is above).`);
      }
      steps.push('build');
    }
  }
  return steps;
}

function exitText(code) {
  return code === null ? 'was interrupted' : `exited with code ${code}`;
}

/** Exit code, or null when the command was killed by a signal (Ctrl-C). */
function runInherited(command, args, cwd) {
  const result = spawnSync(command, args, { cwd, stdio: 'inherit' });
  if (result.error) throw new Error(`could not run ${command}: ${result.error.message}`);
  return result.status;
}

function readJson(file) {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

function mtime(file) {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return undefined;
  }
}

function markStale(file) {
  try {
    utimesSync(file, 0, 0);
  } catch {
    // no output at all: the next run builds anyway
  }
}

function filesUnder(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.join(entry.parentPath ?? entry.path, entry.name));
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    ensureReady({ build: process.argv.includes('--build') });
  } catch (err) {
    console.error(`chargebridge: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  }
}
