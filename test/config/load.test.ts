import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEMO_CHARGER_ID } from '../../src/config/demo.js';
import { ConfigError } from '../../src/config/errors.js';
import {
  DEFAULT_CONFIG_PATH,
  loadConfig,
  parseConfigText,
  resolveConfigPath,
} from '../../src/config/load.js';
import { tempDir } from './helpers.js';

function errorOf(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

/** Every file and folder under `dir`, to prove loading created nothing. */
function listing(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort();
}

describe('finding the config file', () => {
  it('--config, --config=, CHARGEBRIDGE_CONFIG, then ./data/configuration.yaml', () => {
    expect(resolveConfigPath(['run', '--config', 'x.yaml'], {}, '/srv')).toEqual({
      path: '/srv/x.yaml',
      explicit: true,
      source: 'argument',
    });
    expect(
      resolveConfigPath(['--config=/etc/cb.yaml'], { CHARGEBRIDGE_CONFIG: '/other.yaml' }, '/srv'),
    ).toEqual({
      path: '/etc/cb.yaml',
      explicit: true,
      source: 'argument',
    });
    expect(resolveConfigPath([], { CHARGEBRIDGE_CONFIG: 'conf/cb.yaml' }, '/srv')).toEqual({
      path: '/srv/conf/cb.yaml',
      explicit: true,
      source: 'environment',
    });
    expect(resolveConfigPath([], { CHARGEBRIDGE_CONFIG: '' }, '/srv')).toEqual({
      path: join('/srv', DEFAULT_CONFIG_PATH),
      explicit: false,
      source: 'default',
    });
  });

  it('--config without a path is an error', () => {
    expect(errorOf(() => resolveConfigPath(['--config'], {}, '/')).issues).toEqual([
      { path: '', message: '--config needs a file path, e.g. --config /data/configuration.yaml' },
    ]);
    expect(() => resolveConfigPath(['--config', '--verbose'], {}, '/')).toThrow(ConfigError);
  });
});

describe('demo configuration', () => {
  it('no file at the default path gives the demo: one simulated BS20 on the embedded broker', () => {
    const cwd = tempDir();
    const loaded = loadConfig({ args: [], env: {}, cwd, systemTimezone: 'UTC' });
    expect(loaded.isDemo).toBe(true);
    expect(loaded.path).toBe(join(cwd, 'data/configuration.yaml'));
    expect(loaded.config.dataDir).toBe(join(cwd, 'data'));
    expect(loaded.config.mqtt.embeddedBroker.enabled).toBe(true);
    expect(loaded.config.chargers).toHaveLength(1);
    expect(loaded.config.chargers[0]).toMatchObject({
      id: DEMO_CHARGER_ID,
      type: 'bs20',
      transport: 'simulated',
    });
    // Nothing is created, not even the data folder.
    expect(listing(cwd)).toEqual([]);
  });

  it('environment overrides apply to the demo too', () => {
    const loaded = loadConfig({
      args: [],
      env: { CHARGEBRIDGE_MQTT__EMBEDDED_BROKER__PORT: '1999' },
      cwd: tempDir(),
    });
    expect(loaded.isDemo).toBe(true);
    expect(loaded.config.mqtt.embeddedBroker.port).toBe(1999);
  });

  it('a missing file at an explicit path is an error, from --config or CHARGEBRIDGE_CONFIG', () => {
    const cwd = tempDir();
    expect(errorOf(() => loadConfig({ args: ['--config', 'nope.yaml'], env: {}, cwd })).issues).toEqual([
      { path: '', message: `config file ${join(cwd, 'nope.yaml')} does not exist (given by --config)` },
    ]);
    const fromEnv = errorOf(() => loadConfig({ args: [], env: { CHARGEBRIDGE_CONFIG: 'nope.yaml' }, cwd }));
    expect(fromEnv.message).toBe(
      `Invalid configuration (1 problem):\n  - config file ${join(cwd, 'nope.yaml')} does not exist (given by CHARGEBRIDGE_CONFIG)`,
    );
    expect(listing(cwd)).toEqual([]);
  });

  it('a file at the default path is used and is not a demo', () => {
    const cwd = tempDir({ 'data/configuration.yaml': 'log_level: warn\n' });
    const loaded = loadConfig({ args: [], env: {}, cwd });
    expect(loaded.isDemo).toBe(false);
    expect(loaded.config.logLevel).toBe('warn');
    expect(listing(cwd)).toEqual(['data', 'data/configuration.yaml']);
  });

  it('a folder given as the config file is a clear error', () => {
    const cwd = tempDir({ 'conf/x': '' });
    expect(errorOf(() => loadConfig({ args: ['--config', 'conf'], env: {}, cwd })).issues[0]?.message).toBe(
      `config file ${join(cwd, 'conf')} is a folder, not a file`,
    );
  });
});

describe('parseConfigText', () => {
  it('validates text as if it were read from a path', () => {
    const loaded = parseConfigText('log_level: error\n', {
      path: '/nowhere/configuration.yaml',
      systemTimezone: 'UTC',
    });
    expect(loaded).toMatchObject({ path: '/nowhere/configuration.yaml', isDemo: false });
    expect(loaded.config.dataDir).toBe('/nowhere');
  });
});
