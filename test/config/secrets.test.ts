import { describe, expect, it } from 'vitest';
import { issuesOf, load, problems } from './helpers.js';

const EXTERNAL = 'mqtt:\n  url: mqtt://broker.lan\n  username: ha\n';

describe('!secret', () => {
  it('resolves from secrets.yaml beside the config file', () => {
    const { config, secretValues } = load(`${EXTERNAL}  password: !secret mqtt_password\n`, {
      files: { 'secrets.yaml': 'mqtt_password: "Tr0ub4dor&3"\n' },
    });
    expect(config.mqtt.password).toBe('Tr0ub4dor&3');
    expect([...secretValues]).toEqual(['Tr0ub4dor&3']);
  });

  it('keeps a PIN written without quotes in secrets.yaml as its six digits', () => {
    const yaml =
      'chargers:\n  - { id: g, type: bs20, ble_name: x, max_current: 16, pin: !secret bs20_pin }\n';
    const { config } = load(yaml, { files: { 'secrets.yaml': 'bs20_pin: 012345\n' } });
    expect(config.chargers[0]?.pin).toBe('012345');
  });

  it('gives numbers to keys that want numbers', () => {
    const { config } = load('mqtt:\n  embedded_broker:\n    port: !secret port\n', {
      files: { 'secrets.yaml': 'port: 1884\n' },
    });
    expect(config.mqtt.embeddedBroker.port).toBe(1884);
  });

  it('a missing secrets.yaml is a clear error at the key that needs it', () => {
    const [issue] = issuesOf(`${EXTERNAL}  password: !secret mqtt_password\n`);
    expect(issue?.path).toBe('mqtt.password');
    expect(issue?.line).toBe(4);
    expect(issue?.message).toMatch(/^uses !secret mqtt_password, but \/.*\/secrets\.yaml does not exist$/);
  });

  it('a missing name is a clear error with a suggestion, and only that error', () => {
    const yaml =
      'chargers:\n  - { id: g, type: bs20, ble_name: x, max_current: 16, pin: !secret bs20_pin }\n';
    const found = problems(yaml, { files: { 'secrets.yaml': 'bs20_pim: "123456"\nother: x\n' } });
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(
      /^chargers\[0\]\.pin: uses !secret bs20_pin, which is not defined in \/.*\/secrets\.yaml \(did you mean "bs20_pim"\?\)$/,
    );
  });

  it('a broken secrets.yaml is reported with its line', () => {
    const [problem] = problems(`${EXTERNAL}  password: !secret pw\n`, {
      files: { 'secrets.yaml': 'pw: [x\n' },
    });
    expect(problem).toMatch(
      /^mqtt\.password: uses !secret pw, but \/.*\/secrets\.yaml has a problem at line \d+, column \d+: YAML syntax error: /,
    );
  });

  it('!secret without a name is an error', () => {
    expect(issuesOf('mqtt:\n  password: !secret { a: 1 }\n')[0]?.message).toBe(
      '!secret needs a name, e.g. password: !secret mqtt_password',
    );
  });

  it('a secret value that fails validation is redacted, even under a non-secret key', () => {
    const yaml = 'mqtt:\n  base_topic: !secret topic\n';
    const found = problems(yaml, { files: { 'secrets.yaml': 'topic: "hidden/value"\n' } });
    expect(found).toEqual([
      'mqtt.base_topic: must be a single MQTT topic level of up to 64 characters: no "/", "+", "#" or spaces, not starting with "$"; got [redacted] (from !secret topic)',
    ]);
  });
});

describe('*_file secrets', () => {
  it('reads a secret key from a file, dropping the trailing newline', () => {
    const { config, secretValues } = load(`${EXTERNAL}  password_file: run/mqtt_password\n`, {
      files: { 'run/mqtt_password': 'from-a-file\n' },
    });
    expect(config.mqtt.password).toBe('from-a-file');
    expect(secretValues.has('from-a-file')).toBe(true);
  });

  it('works for a charger PIN', () => {
    const yaml = 'chargers:\n  - { id: g, type: bs20, ble_name: x, max_current: 16, pin_file: pin.txt }\n';
    expect(load(yaml, { files: { 'pin.txt': '000001\n' } }).config.chargers[0]?.pin).toBe('000001');
  });

  it('a missing file, a key given twice, or a non-secret key are errors', () => {
    expect(problems(`${EXTERNAL}  password_file: nope.txt\n`)[0]).toMatch(
      /^mqtt\.password_file: must name a readable file holding password, but \/.*\/nope\.txt does not exist$/,
    );
    expect(
      problems(`${EXTERNAL}  password: a\n  password_file: pw.txt\n`, { files: { 'pw.txt': 'b' } }),
    ).toEqual(['mqtt.password_file: cannot be used together with password; keep one of them']);
    expect(problems('mqtt:\n  base_topic_file: t.txt\n')[0]).toMatch(/^mqtt\.base_topic_file: unknown key/);
  });
});
