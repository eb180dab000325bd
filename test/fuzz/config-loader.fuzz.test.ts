/**
 * The config loader against mutations of the shipped example and random YAML: the outcome is always
 * a valid configuration or a ConfigError listing its problems — never another exception — and no
 * secret (a PIN, a password, a token, a value from secrets.yaml, a *_file or the environment) ever
 * appears in an error message or in the redacted configuration that `bridge/info` publishes.
 * It found two loader bugs, now fixed and guarded here: a broken alias or merge escaped as a plain
 * Error, and a syntax error quoted the offending text (a password on a broken line).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { ConfigError, parseConfigText, redactConfig } from '../../src/config/index.js';
import { runSeed, type SeededRandom, seededRandom } from '../reliability/seeded-random.js';

const EXAMPLE = readFileSync(new URL('../../config/chargebridge.example.yaml', import.meta.url), 'utf8');
/** Each load builds the schema and parses YAML (~15–50 ms); raise it for a longer run. */
const ROUNDS = Number(process.env.CB_TEST_CONFIG_FUZZ_ROUNDS ?? 300);

/** Secrets used by the base config; none may ever show up in an error or a redacted config. */
const SECRETS = {
  pin: '739258',
  brokerPassword: 'Brk-pw-Qz81xV',
  httpToken: 'tok-4Rj8Wq2LpZ7mN3vY',
  fromSecretsFile: 'SecFile-Hy63Lk',
  fromPasswordFile: 'PwFile-Nb27Xc',
  fromEnv: 'EnvPw-Tu59Gm',
};
/** Extra markers the mutations put under secret keys. */
const MARK = 'Mk7Secret';
const ALL_SECRETS = [...Object.values(SECRETS), MARK];
/**
 * After text-level damage a secret written inline can end up under another key (a deleted `token:`
 * line makes its list item part of the line above): then it is no longer a secret by any rule.
 * Values from secrets.yaml, a *_file or the environment stay secret wherever they land.
 */
const SECRETS_FROM_ELSEWHERE = [SECRETS.fromSecretsFile, SECRETS.fromPasswordFile, SECRETS.fromEnv];

const dir = mkdtempSync(path.join(tmpdir(), 'cb-config-fuzz-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
writeFileSync(
  path.join(dir, 'secrets.yaml'),
  `garage_pin: "${SECRETS.pin}"\nbroker_password: ${SECRETS.fromSecretsFile}\nnumber_secret: 424242\n`,
);
writeFileSync(path.join(dir, 'password.txt'), `${SECRETS.fromPasswordFile}\n`);
const CONFIG_PATH = path.join(dir, 'configuration.yaml');

/** The example, made to carry a secret of every kind. */
function baseTree(): Record<string, unknown> {
  const tree = parse(EXAMPLE) as Record<string, unknown>;
  const mqtt = tree.mqtt as Record<string, Record<string, unknown>>;
  mqtt.embedded_broker!.username = 'homeassistant';
  mqtt.embedded_broker!.password = SECRETS.brokerPassword;
  const charger = (tree.chargers as Array<Record<string, unknown>>)[0]!;
  charger.pin = SECRETS.pin;
  tree.http = { enabled: true, host: '127.0.0.1', port: 8099, token: SECRETS.httpToken };
  return tree;
}

const SECRET_KEYS = ['pin', 'password', 'token'];
const JUNK_KEYS = ['pinn', 'passwd', 'Password', 'tokens', 'chargers', 'id', 'type', '<<', '', ' ', '0', 'ÿ'];

function randomScalar(random: SeededRandom): unknown {
  return random.pick<() => unknown>([
    () => random.between(-1e6, 1e6),
    () => random.next() * 1e300,
    () => -0,
    () => Number.MAX_SAFE_INTEGER + 2,
    () => true,
    () => null,
    () => '',
    () => 'x'.repeat(random.int(2000)),
    () => String.fromCharCode(...random.bytes(random.int(30))),
    () => '0x1F',
    () => '1e309',
    () => '.nan',
    () => '~',
    () => '2026-06-01T18:00:00Z',
    () => '00:11:22:33:44:55',
    () => 'ACP#EVSE0158',
    () => 'mqtt://user:pw@host:1883',
    () => '../../etc/passwd',
    () => 'garage',
    () => 'bs20',
    () => 'simulated',
  ])();
}

function randomValue(random: SeededRandom, depth = 0): unknown {
  const roll = random.next();
  if (depth > 3 || roll < 0.6) return randomScalar(random);
  if (roll < 0.8) return Array.from({ length: random.int(4) }, () => randomValue(random, depth + 1));
  const out: Record<string, unknown> = {};
  for (let i = random.int(4); i > 0; i--) out[random.pick(JUNK_KEYS)] = randomValue(random, depth + 1);
  return out;
}

/** A secret-bearing value that is wrong in some way (too long, a list, a map, spaces…). */
function badSecret(random: SeededRandom): unknown {
  return random.pick<unknown>([
    MARK,
    `${MARK} with spaces`,
    MARK.repeat(40),
    [MARK],
    { value: MARK },
    `12345${MARK}`,
    `${MARK}\n`,
  ]);
}

interface Slot {
  parent: Record<string, unknown> | unknown[];
  key: string | number;
}

function slots(value: unknown, out: Slot[] = []): Slot[] {
  if (Array.isArray(value)) {
    value.forEach((item, index) => {
      out.push({ parent: value, key: index });
      slots(item, out);
    });
  } else if (value !== null && typeof value === 'object') {
    for (const [key, inner] of Object.entries(value)) {
      out.push({ parent: value as Record<string, unknown>, key });
      slots(inner, out);
    }
  }
  return out;
}

const set = (slot: Slot, value: unknown) => {
  (slot.parent as Record<string | number, unknown>)[slot.key] = value;
};

function mutateTree(tree: Record<string, unknown>, random: SeededRandom, onlyDeletes = false): void {
  for (let n = random.between(1, 4); n > 0; n--) {
    const all = slots(tree);
    const slot = random.pick(all);
    if (onlyDeletes) {
      // Leaving keys out is what users do most; their defaults must then apply.
      if (!Array.isArray(slot.parent)) delete slot.parent[slot.key as string];
      continue;
    }
    const isSecret = typeof slot.key === 'string' && SECRET_KEYS.includes(slot.key);
    const roll = random.next();
    if (isSecret && roll < 0.6) set(slot, badSecret(random));
    else if (roll < 0.4) set(slot, randomValue(random));
    else if (roll < 0.55 && !Array.isArray(slot.parent)) delete slot.parent[slot.key as string];
    else if (roll < 0.7 && Array.isArray(slot.parent))
      slot.parent.push(structuredClone(slot.parent[slot.key as number]));
    else if (roll < 0.85 && !Array.isArray(slot.parent)) {
      // A typo in the key name, keeping the value (a secret under a misspelt key included).
      const key = slot.key as string;
      const typo =
        key.length > 1
          ? `${key.slice(0, -1)}${random.pick(['', 'x', key.at(-1)!.toUpperCase()])}`
          : `${key}_`;
      slot.parent[typo] = slot.parent[key];
      delete slot.parent[key];
    } else set(slot, randomValue(random));
  }
}

/** Text-level damage: the things an editor, a bad paste or a broken disk do. */
function mutateText(text: string, random: SeededRandom): string {
  const lines = text.split('\n');
  const at = random.int(lines.length);
  switch (random.int(9)) {
    case 0:
      return text.slice(0, random.int(text.length));
    case 1:
      lines.splice(at, 1);
      return lines.join('\n');
    case 2:
      lines[at] = `\t${lines[at]}`;
      return lines.join('\n');
    case 3:
      lines[at] = ` ${lines[at]}`;
      return lines.join('\n');
    case 4: {
      const bytes = Buffer.from(text, 'utf8');
      for (let i = random.between(1, 8); i > 0; i--) bytes[random.int(bytes.length)] = random.int(256);
      return bytes.toString('utf8');
    }
    case 5:
      // A value read from secrets.yaml, the password file or the environment, somewhere odd.
      lines[at] = (lines[at] ?? '').replace(
        /:\s.*$/,
        `: ${random.pick(['!secret garage_pin', '!secret broker_password', '!secret number_secret', '!secret missing_one', '!secret', '!unknown x'])}`,
      );
      return lines.join('\n');
    case 6:
      return `${text}\nbomb: &a [x, x, x, x, x, x, x, x, x]\nb2: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nb3: [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n`;
    case 7:
      return `${text}\nextra: *undefined_anchor\n`;
    default:
      return text.replace(/password: \S+/, 'password_file: password.txt');
  }
}

type Outcome =
  | { kind: 'valid'; redacted: string }
  | { kind: 'invalid'; message: string }
  | { kind: 'crash'; error: unknown };

function load(text: string, env: NodeJS.ProcessEnv): Outcome {
  try {
    const loaded = parseConfigText(text, { path: CONFIG_PATH, env, systemTimezone: 'Europe/Berlin' });
    return { kind: 'valid', redacted: JSON.stringify(redactConfig(loaded.config, loaded.secretValues)) };
  } catch (error) {
    if (!(error instanceof ConfigError)) return { kind: 'crash', error };
    if (
      error.issues.length === 0 ||
      error.issues.some((i) => typeof i.message !== 'string' || i.message === '')
    ) {
      return { kind: 'crash', error: new Error(`ConfigError without readable issues: ${error.message}`) };
    }
    return { kind: 'invalid', message: JSON.stringify(error.issues) };
  }
}

describe('fuzz: the config loader', () => {
  it('the base (example + secrets) is valid and its redacted form shows no secret', () => {
    const outcome = load(stringify(baseTree()), {
      CHARGEBRIDGE_MQTT__EMBEDDED_BROKER__PASSWORD: SECRETS.fromEnv,
    });
    expect(outcome.kind).toBe('valid');
    if (outcome.kind === 'valid')
      for (const secret of ALL_SECRETS) expect(outcome.redacted).not.toContain(secret);
  });

  it(`answers ${ROUNDS} mutated and random configs with a config or a clear error, never a secret`, () => {
    const seed = runSeed('config fuzz');
    const random = seededRandom(seed);
    const failures: string[] = [];
    const counts = { valid: 0, invalid: 0 };
    for (let round = 0; round < ROUNDS && failures.length < 5; round++) {
      let text: string;
      const style = random.int(5);
      if (style === 0) {
        // A random YAML tree using the real section names.
        const tree: Record<string, unknown> = {};
        for (const key of [
          'data_dir',
          'mqtt',
          'homeassistant',
          'ble',
          'chargers',
          'users',
          'tariff',
          'http',
          'log_level',
        ]) {
          if (random.chance(0.5)) tree[key] = randomValue(random);
        }
        text = stringify(tree);
      } else {
        const tree = baseTree();
        mutateTree(tree, random, style === 4);
        text = stringify(tree);
        if (style === 3) text = mutateText(text, random);
      }
      const env: NodeJS.ProcessEnv = random.chance(0.3)
        ? {
            [random.pick([
              'CHARGEBRIDGE_MQTT__EMBEDDED_BROKER__PASSWORD',
              'CHARGEBRIDGE_CHARGERS__0__PIN',
              'CHARGEBRIDGE_HTTP__TOKEN',
            ])]: random.pick([SECRETS.fromEnv, `${SECRETS.fromEnv} x`, '']),
          }
        : {};
      const outcome = load(text, env);
      if (outcome.kind === 'crash') {
        failures.push(
          `round ${round}: ${outcome.error instanceof Error ? outcome.error.stack : String(outcome.error)}\n${text.slice(0, 400)}`,
        );
        continue;
      }
      counts[outcome.kind]++;
      const shown = outcome.kind === 'valid' ? outcome.redacted : outcome.message;
      const leaked = (style === 3 ? SECRETS_FROM_ELSEWHERE : ALL_SECRETS).filter((secret) =>
        shown.includes(secret),
      );
      if (leaked.length > 0)
        failures.push(`round ${round}: ${leaked.join(', ')} shown in:\n${shown.slice(0, 1200)}`);
    }
    expect(failures, `seed ${seed}`).toEqual([]);
    // Both outcomes are reached: the fuzz is not only breaking the file.
    expect(counts.valid).toBeGreaterThan(ROUNDS / 100);
    expect(counts.invalid).toBeGreaterThan(ROUNDS / 2);
  }, 60_000);
});
