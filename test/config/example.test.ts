import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../src/config/load.js';
import { createConfigSchema } from '../../src/config/schema.js';
import { allKeyPaths } from '../../src/config/schema-walk.js';

const example = readFileSync(new URL('../../config/chargebridge.example.yaml', import.meta.url), 'utf8');
const docs = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8');
const keyPaths = allKeyPaths(
  createConfigSchema({ configDir: '/', systemTimezone: 'UTC', fileExists: () => true }),
);

describe('config/chargebridge.example.yaml', () => {
  it('loads and validates as it is', () => {
    const { config, isDemo } = parseConfigText(example, {
      path: '/etc/chargebridge/configuration.yaml',
      env: {},
    });
    expect(isDemo).toBe(false);
    expect(config.chargers.map((c) => [c.id, c.transport])).toEqual([['garage', 'ble']]);
    expect(config.mqtt.embeddedBroker.enabled).toBe(true);
  });

  it('mentions every key of the schema, set or commented out', () => {
    const missing = keyPaths.filter((path) => {
      const key = path.split('.').at(-1)?.replace('[]', '');
      return !new RegExp(`^[\\s#-]*${key}:`, 'm').test(example);
    });
    expect(missing).toEqual([]);
  });
});

describe('docs/configuration.md', () => {
  it('has a table row for every key path', () => {
    const missing = keyPaths.filter((path) => !docs.includes(`| \`${path}\` |`));
    expect(missing).toEqual([]);
  });
});
