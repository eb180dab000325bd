import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { runConfigCheck } from '../../src/cli/config-check.js';
import { SECRETS, YAML } from './fixtures.js';
import { tempDir } from './helpers.js';

interface Printed {
  log_level: string;
  data_dir: string;
  mqtt: Record<string, unknown>;
  chargers: (Record<string, unknown> & { simulator: Record<string, unknown> })[];
}

function check(args: string[], env: NodeJS.ProcessEnv = {}): { code: number; output: string } {
  let output = '';
  const code = runConfigCheck(args, { write: (text) => (output += text) }, env);
  return { code, output };
}

describe('config check', () => {
  it('prints the effective configuration as YAML, with env overrides and without any secret', () => {
    const dir = tempDir({
      'configuration.yaml': YAML,
      'secrets.yaml': `mqtt_password: ${SECRETS.mqttPassword}\n`,
      'pin.txt': SECRETS.filePin,
    });
    const envPin = '135790';
    const { code, output } = check(['--config', join(dir, 'configuration.yaml')], {
      CHARGEBRIDGE_LOG_LEVEL: 'debug',
      CHARGEBRIDGE_CHARGERS__0__PIN: envPin,
    });
    expect(code).toBe(0);
    expect(output).toContain(`Configuration ${join(dir, 'configuration.yaml')} is valid.`);
    for (const secret of [...Object.values(SECRETS), envPin]) expect(output).not.toContain(secret);

    const printed = parse(output.slice(output.indexOf('\n#'))) as Printed;
    expect(printed.log_level).toBe('debug');
    expect(printed.data_dir).toBe(dir);
    expect(printed.mqtt.url).toBe('mqtts://bob:[redacted]@broker.lan:8883');
    expect(printed.mqtt.password).toBe('[redacted]');
    expect(printed.mqtt.keepalive_s).toBe(60);
    expect(printed.chargers[0]).toMatchObject({
      id: 'garage',
      pin: '[redacted]',
      max_current: 16,
      stale_after_s: 35,
    });
    expect(printed.chargers[1]?.simulator).toMatchObject({ pin: '[redacted]', hardware_max_current: 32 });
  });

  it('says loudly when it would run the demo configuration', () => {
    const cwd = tempDir();
    const previous = process.cwd();
    process.chdir(cwd);
    try {
      const { code, output } = check([]);
      expect(code).toBe(0);
      expect(output).toMatch(
        /^No configuration file at .*data\/configuration\.yaml: chargebridge would run the DEMO configuration/,
      );
      expect(output).toContain('id: demo_bs20');
    } finally {
      process.chdir(previous);
    }
  });

  it('prints every problem and exits 1, never showing a secret', () => {
    const dir = tempDir({
      'configuration.yaml':
        'log_level: chatty\nchargers:\n  - { id: g, type: bs20, ble_name: x, max_current: 99, pin: "42861" }\n',
    });
    const { code, output } = check(['--config', join(dir, 'configuration.yaml')]);
    expect(code).toBe(1);
    expect(output).toBe(
      [
        `Invalid configuration in ${join(dir, 'configuration.yaml')} (3 problems):`,
        '  - log_level (line 1, column 1): must be one of: trace, debug, info, warn, error, fatal; got "chatty"',
        '  - chargers[0].pin (line 3, column 56): must be exactly 6 digits in quotes, e.g. pin: "012345"; got [redacted]',
        '  - chargers[0].max_current (line 3, column 39): must be a whole number from 6 to 80 (amps); got 99',
        '',
      ].join('\n'),
    );
    expect(output).not.toContain('42861');
  });

  it('a missing explicit file exits 1', () => {
    const { code, output } = check(['--config', join(tempDir(), 'missing.yaml')]);
    expect(code).toBe(1);
    expect(output).toMatch(/config file .*missing\.yaml does not exist \(given by --config\)/);
  });
});
