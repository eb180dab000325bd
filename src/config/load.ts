/**
 * Finds, reads and validates the configuration. Order: YAML (with !secret) → environment overrides
 * → *_file secrets → schema (defaults) → camelCase. Every problem is collected and thrown at once
 * as a ConfigError. Loading only reads: the data folder is created later by the daemon.
 */
import { existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { camelizeKeys, isPlainObject } from './casing.js';
import { demoConfigFile } from './demo.js';
import { applyEnvOverrides, CONFIG_PATH_VARIABLE, ENV_PREFIX } from './env.js';
import { ConfigError, type ConfigIssue, formatPath, type PathSegment } from './errors.js';
import { canonicalTimeZone } from './fields.js';
import { Provenance } from './provenance.js';
import { type ChargebridgeConfig, type ConfigSchema, createConfigSchema } from './schema.js';
import { keyExists } from './schema-walk.js';
import { readTextFile, resolveSecretFiles, resolveSecretRefs } from './secrets.js';
import { parseYamlSource, type YamlSource } from './yaml-source.js';
import { errorMap, translateIssues } from './zod-issues.js';

export const DEFAULT_CONFIG_PATH = './data/configuration.yaml';

export interface ConfigLocation {
  /** Absolute path of the config file. */
  path: string;
  /** True when the user named the file (a missing file is then an error, not demo mode). */
  explicit: boolean;
  source: 'argument' | 'environment' | 'default';
}

/** `--config <path>` / `--config=<path>`, else $CHARGEBRIDGE_CONFIG, else ./data/configuration.yaml. */
export function resolveConfigPath(
  args: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
  cwd: string = process.cwd(),
): ConfigLocation {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === '--config' || arg.startsWith('--config=')) {
      const value = arg === '--config' ? args[i + 1] : arg.slice('--config='.length);
      if (value === undefined || value === '' || (arg === '--config' && value.startsWith('--'))) {
        throw new ConfigError(
          [{ path: '', message: '--config needs a file path, e.g. --config /data/configuration.yaml' }],
          null,
        );
      }
      return { path: resolve(cwd, value), explicit: true, source: 'argument' };
    }
  }
  const fromEnv = env[CONFIG_PATH_VARIABLE];
  if (fromEnv !== undefined && fromEnv !== '')
    return { path: resolve(cwd, fromEnv), explicit: true, source: 'environment' };
  return { path: resolve(cwd, DEFAULT_CONFIG_PATH), explicit: false, source: 'default' };
}

export interface LoadConfigOptions {
  /** Command-line arguments (only --config is read). */
  args?: readonly string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Zone used when `timezone` is not set; defaults to the system's. */
  systemTimezone?: string;
}

export interface LoadedConfig {
  config: ChargebridgeConfig;
  /** The config file (for the demo: where it would be). */
  path: string;
  /** No file at the default path: the built-in demo configuration is in use. Say so loudly. */
  isDemo: boolean;
  /** Values from !secret and *_file, to hide wherever they appear (pass to redactConfig). */
  secretValues: ReadonlySet<string>;
}

/** The system's zone; UTC when the system reports none Intl would accept (odd TZ settings). */
export function systemTimezone(): string {
  return canonicalTimeZone(Intl.DateTimeFormat().resolvedOptions().timeZone ?? 'UTC') ?? 'UTC';
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** Drops empty values (`username:` with nothing after it) of known keys so their defaults apply. */
function dropEmptyValues(value: unknown, schema: ConfigSchema, path: PathSegment[] = []): unknown {
  if (Array.isArray(value))
    return value.map((item, index) => dropEmptyValues(item, schema, [...path, index]));
  if (!isPlainObject(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    // An unknown key stays, empty or not, so validation can name it.
    if (inner === null && keyExists(schema, [...path, key])) continue;
    out[key] = dropEmptyValues(inner, schema, [...path, key]);
  }
  return out;
}

interface BuildOptions {
  path: string;
  env: NodeJS.ProcessEnv;
  systemTimezone: string;
  source?: YamlSource;
}

function buildConfig(fileValue: unknown, options: BuildOptions): LoadedConfig & { issues: ConfigIssue[] } {
  const configDir = dirname(options.path);
  const schema = createConfigSchema({
    configDir,
    systemTimezone: options.systemTimezone,
    fileExists: isFile,
  });
  const provenance = new Provenance();
  const issues: ConfigIssue[] = [];
  const locate = (path: readonly PathSegment[]) => options.source?.locate(path);
  const report = (path: PathSegment[], message: string, inFile = true) => {
    const position = inFile ? locate(path) : undefined;
    issues.push({
      path: formatPath(path),
      message,
      ...(position ? { line: position.line, column: position.column } : {}),
    });
    if (path.length > 0) provenance.markReported(path);
  };
  const sourceCtx = { schema, configDir, provenance, report };

  let tree = resolveSecretRefs(fileValue ?? {}, sourceCtx) as Record<string, unknown>;
  applyEnvOverrides(tree, options.env, sourceCtx);
  tree = resolveSecretFiles(tree, sourceCtx) as Record<string, unknown>;

  const result = schema.safeParse(dropEmptyValues(tree, schema), { reportInput: true, error: errorMap });
  if (!result.success) {
    issues.push(...translateIssues(result.error.issues, { provenance, schema, locate }));
  }
  return {
    // Only read when `issues` is empty, which implies the parse succeeded.
    config: (result.success ? camelizeKeys(result.data) : undefined) as ChargebridgeConfig,
    path: options.path,
    isDemo: false,
    secretValues: provenance.secretValues,
    issues: inFileOrder(issues),
  };
}

/** Problems in the order they appear in the file; those without a line (environment) last. */
function inFileOrder(issues: ConfigIssue[]): ConfigIssue[] {
  // By line only: problems on one line keep the schema's order (a field before its cross-key checks).
  const rank = (issue: ConfigIssue) => issue.line ?? Number.MAX_SAFE_INTEGER;
  return [...issues].sort((a, b) => rank(a) - rank(b));
}

function finish(built: LoadedConfig & { issues: ConfigIssue[] }, file: string | null): LoadedConfig {
  const { issues, ...loaded } = built;
  if (issues.length > 0) throw new ConfigError(issues, file);
  return loaded;
}

export const EMPTY_FILE_MESSAGE =
  'the file is empty (only blanks, comments or null), so chargebridge did not start: an empty or truncated ' +
  'file would leave no chargers. Restore it from a backup, or write at least one key (see ' +
  'config/chargebridge.example.yaml; `chargers: []` if you really want none), or give the chargers in ' +
  'CHARGEBRIDGE_CHARGERS__… environment variables';

function setsChargers(env: NodeJS.ProcessEnv): boolean {
  return Object.keys(env).some((name) => name.toUpperCase().startsWith(`${ENV_PREFIX}CHARGERS`) && env[name]);
}

/** Validates a config file's text as if it were read from `path` (secrets.yaml and *_file beside it). */
export function parseConfigText(
  text: string,
  options: { path: string; env?: NodeJS.ProcessEnv; systemTimezone?: string },
): LoadedConfig {
  const source = parseYamlSource(text);
  if (source.issues.length > 0) throw new ConfigError(source.issues, options.path);
  // A file emptied by accident (0 bytes, `~`, a write cut short by a full disk) must not start a
  // daemon with no chargers: Home Assistant would lose them all.
  // Chargers given entirely by CHARGEBRIDGE_CHARGERS__… variables (a container) make an empty file fine.
  const emptyFile = source.value === null || source.value === undefined;
  if (emptyFile && !setsChargers(options.env ?? {})) {
    throw new ConfigError([{ path: '', message: EMPTY_FILE_MESSAGE }], options.path);
  }
  const value = emptyFile ? {} : source.value;
  if (!isPlainObject(value)) {
    const got = Array.isArray(value) ? 'a list' : `${JSON.stringify(value)}`;
    throw new ConfigError(
      [{ path: '', message: `the file must be a mapping of keys such as mqtt: and chargers:; got ${got}` }],
      options.path,
    );
  }
  const built = buildConfig(value, {
    path: options.path,
    env: options.env ?? {},
    systemTimezone: options.systemTimezone ?? systemTimezone(),
    source,
  });
  return finish(built, options.path);
}

/** Finds, reads and validates the configuration; throws ConfigError with every problem. */
export function loadConfig(options: LoadConfigOptions = {}): LoadedConfig {
  const env = options.env ?? process.env;
  const location = resolveConfigPath(options.args ?? [], env, options.cwd);
  const zone = options.systemTimezone ?? systemTimezone();
  if (!existsSync(location.path)) {
    if (location.explicit) {
      const given = location.source === 'argument' ? 'given by --config' : `given by ${CONFIG_PATH_VARIABLE}`;
      throw new ConfigError(
        [{ path: '', message: `config file ${location.path} does not exist (${given})` }],
        null,
      );
    }
    const built = buildConfig(demoConfigFile(), { path: location.path, env, systemTimezone: zone });
    return { ...finish(built, null), isDemo: true };
  }
  const read = readTextFile(location.path);
  if ('error' in read) throw new ConfigError([{ path: '', message: `config file ${read.error}` }], null);
  return parseConfigText(read.text, { path: location.path, env, systemTimezone: zone });
}
