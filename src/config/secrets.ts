/**
 * Two ways to keep secrets out of the config file:
 * - `password: !secret mqtt_password`, looked up in secrets.yaml beside the config file (as in
 *   Home Assistant);
 * - `password_file: /run/secrets/mqtt_password` for any secret key (Docker/systemd credentials).
 * Both run before validation, so the schema only ever sees plain values.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { z } from 'zod';
import { isPlainObject } from './casing.js';
import type { PathSegment } from './errors.js';
import type { Provenance } from './provenance.js';
import { isSecretKey } from './redact.js';
import { keyExists, wantsOnlyText } from './schema-walk.js';
import { didYouMean } from './suggest.js';
import { parseYamlSource, SecretRef, type YamlSource } from './yaml-source.js';

export const SECRETS_FILE_NAME = 'secrets.yaml';

export interface SourceContext {
  schema: z.ZodType;
  configDir: string;
  provenance: Provenance;
  /** Records a problem at `path`; `inFile: false` when the file has no line for it (environment). */
  report(path: PathSegment[], message: string, inFile?: boolean): void;
}

type ReadResult = { text: string } | { error: string };

export function readTextFile(path: string): ReadResult {
  try {
    return { text: readFileSync(path, 'utf8') };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { error: `${path} does not exist` };
    if (code === 'EISDIR') return { error: `${path} is a folder, not a file` };
    if (code === 'EACCES') return { error: `${path} cannot be read (permission denied)` };
    return { error: `${path} cannot be read (${(error as Error).message})` };
  }
}

type SecretsFile = { ok: true; source: YamlSource; names: string[] } | { ok: false; problem: string };

function loadSecretsFile(path: string): SecretsFile {
  const read = readTextFile(path);
  if ('error' in read) return { ok: false, problem: read.error };
  const source = parseYamlSource(read.text);
  const first = source.issues[0];
  if (first) {
    const where = first.line === undefined ? '' : ` at line ${first.line}, column ${first.column}`;
    return { ok: false, problem: `${path} has a problem${where}: ${first.message}` };
  }
  const value = source.value ?? {};
  if (!isPlainObject(value)) return { ok: false, problem: `${path} must be a mapping of name: value lines` };
  return { ok: true, source, names: Object.keys(value) };
}

function walk(
  value: unknown,
  path: PathSegment[],
  visit: (value: unknown, path: PathSegment[]) => unknown,
): unknown {
  const replaced = visit(value, path);
  if (Array.isArray(replaced)) return replaced.map((item, index) => walk(item, [...path, index], visit));
  if (!isPlainObject(replaced)) return replaced;
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(replaced)) out[key] = walk(inner, [...path, key], visit);
  return out;
}

/** Replaces every `!secret name` with its value from secrets.yaml (read only when needed). */
export function resolveSecretRefs(tree: unknown, ctx: SourceContext): unknown {
  const secretsPath = join(ctx.configDir, SECRETS_FILE_NAME);
  let secrets: SecretsFile | undefined;
  return walk(tree, [], (value, path) => {
    if (!(value instanceof SecretRef)) return value;
    secrets ??= loadSecretsFile(secretsPath);
    const fail = (message: string) => {
      ctx.report(path, message);
      return undefined;
    };
    if (!secrets.ok) return fail(`uses !secret ${value.name}, but ${secrets.problem}`);
    if (!secrets.names.includes(value.name)) {
      return fail(
        `uses !secret ${value.name}, which is not defined in ${secretsPath}${didYouMean(value.name, secrets.names)}`,
      );
    }
    const resolved = secrets.source.value as Record<string, unknown>;
    let secret = resolved[value.name];
    if (secret instanceof SecretRef)
      return fail(`uses !secret ${value.name}, which itself is a !secret in ${secretsPath}`);
    // secrets.yaml has no schema of its own: a PIN written 012345 there stays "012345".
    if (wantsOnlyText(ctx.schema, path)) secret = secrets.source.sourceText([value.name]) ?? secret;
    ctx.provenance.addSecret(secret);
    ctx.provenance.setOrigin(path, `from !secret ${value.name}`, true);
    return secret;
  });
}

/** `<secret key>_file: path` → the secret key set to the file's text (one trailing newline dropped). */
export function resolveSecretFiles(tree: unknown, ctx: SourceContext): unknown {
  return walk(tree, [], (value, path) => {
    if (!isPlainObject(value)) return value;
    const out: Record<string, unknown> = { ...value };
    for (const [key, filePath] of Object.entries(value)) {
      if (!key.endsWith('_file')) continue;
      const target = key.slice(0, -'_file'.length);
      if (!isSecretKey(target) || !keyExists(ctx.schema, [...path, target])) continue;
      const fail = (message: string) => {
        ctx.report([...path, key], message);
        ctx.provenance.markReported([...path, target]);
      };
      delete out[key];
      if (typeof filePath !== 'string' || filePath === '') {
        fail(`must be the path of a file holding ${target}`);
        continue;
      }
      if (value[target] !== undefined && value[target] !== null) {
        fail(`cannot be used together with ${target}; keep one of them`);
        continue;
      }
      const absolute = resolve(ctx.configDir, filePath);
      const read = readTextFile(absolute);
      if ('error' in read) {
        fail(`must name a readable file holding ${target}, but ${read.error}`);
        continue;
      }
      const secret = read.text.replace(/\r?\n$/, '');
      out[target] = secret;
      ctx.provenance.addSecret(secret);
      ctx.provenance.setOrigin([...path, target], `from ${key} ${absolute}`, true);
    }
    return out;
  });
}
