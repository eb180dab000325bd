import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll } from 'vitest';
import { ConfigError, type ConfigIssue } from '../../src/config/errors.js';
import { type LoadedConfig, loadConfig } from '../../src/config/load.js';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A fresh folder under the system temp dir with the given files (paths relative to it). */
export function tempDir(files: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'chargebridge-config-'));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

export interface LoadOptions {
  env?: NodeJS.ProcessEnv;
  files?: Record<string, string>;
}

/** Writes `yaml` as configuration.yaml (plus `files`) and loads it with --config. */
export function load(yaml: string, options: LoadOptions = {}): LoadedConfig {
  const dir = tempDir({ 'configuration.yaml': yaml, ...options.files });
  return loadConfig({
    args: ['--config', join(dir, 'configuration.yaml')],
    env: options.env ?? {},
    cwd: dir,
    systemTimezone: 'Europe/Amsterdam',
  });
}

/** The ConfigError a load throws (fails the test when it does not throw). */
export function loadError(yaml: string, options: LoadOptions = {}): ConfigError {
  try {
    load(yaml, options);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected the configuration to be rejected');
}

export function issuesOf(yaml: string, options: LoadOptions = {}): ConfigIssue[] {
  return loadError(yaml, options).issues;
}

/** `path: message` per issue, which is what the tests compare. */
export function problems(yaml: string, options: LoadOptions = {}): string[] {
  return issuesOf(yaml, options).map((issue) => `${issue.path}: ${issue.message}`);
}

/** A valid BLE charger entry, indented as a list item under `chargers:`. */
export const BLE_CHARGER = `
  - id: garage
    type: bs20
    address: "A4:C1:38:12:34:56"
    pin: "123456"
    max_current: 16
`;
