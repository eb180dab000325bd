/**
 * Files on disk gone bad: a corrupt or unreadable configuration, secrets file or *_file, a data
 * folder that cannot be created, state files that are corrupt or cannot be written. Each case ends
 * in a clear error (or a logged warning while the daemon keeps working), and nothing is discarded:
 * the user's files stay byte for byte as they were, corrupt state is moved aside, never deleted.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { runConfigCheck } from '../../src/cli/config-check.js';
import { runDaemon } from '../../src/cli/run.js';
import { ConfigError, loadConfig } from '../../src/config/index.js';
import { startDaemon } from '../../src/daemon.js';
import { createLogger } from '../../src/log.js';
import { freePort } from '../helpers/mosquitto.js';
import { parseJson, startDaemonRig, waitUntil } from './daemon-rig.js';
import { seededRandom } from './seeded-random.js';

const dirs: string[] = [];
afterEach(() => {
  vi.restoreAllMocks();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'cb-disk-'));
  dirs.push(dir);
  return dir;
}

/** Every file under `dir` with the hash of its bytes: the "nothing changed" fingerprint. */
function fingerprint(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    const full = path.join(entry.parentPath, entry.name);
    const rel = path.relative(dir, full);
    out[rel] = entry.isFile() ? createHash('sha256').update(readFileSync(full)).digest('hex') : 'dir';
  }
  return out;
}

const VALID = [
  'mqtt:',
  '  embedded_broker: { host: 127.0.0.1, port: 18830, password: !secret broker_password, username: ha }',
  'chargers:',
  '  - id: garage',
  '    type: bs20',
  '    transport: simulated',
  '    pin: !secret garage_pin',
  '    max_current: 16',
  '',
].join('\n');
const SECRETS_YAML = 'garage_pin: "802514"\nbroker_password: disk-test-pw-77\n';

interface BrokenCase {
  name: string;
  files: Record<string, string | Buffer | 'DIR'>;
  /** Words the error must contain. */
  says: RegExp;
}

const random = seededRandom(20261122);
const CASES: BrokenCase[] = [
  {
    name: 'random bytes instead of YAML',
    files: { 'configuration.yaml': Buffer.from(random.bytes(2048)), 'secrets.yaml': SECRETS_YAML },
    says: /configuration|YAML|mapping|line/i,
  },
  {
    name: 'invalid UTF-8 inside a value',
    files: {
      'configuration.yaml': Buffer.concat([
        Buffer.from(VALID.replace('garage', 'gar')),
        Buffer.from([0xc3, 0x28]),
      ]),
      'secrets.yaml': SECRETS_YAML,
    },
    says: /./,
  },
  {
    name: 'a file cut off in the middle of a line',
    files: {
      'configuration.yaml': VALID.slice(0, VALID.indexOf('transport') + 5),
      'secrets.yaml': SECRETS_YAML,
    },
    says: /line 6/,
  },
  {
    name: 'NUL bytes (a block of a broken SD card)',
    files: {
      'configuration.yaml': Buffer.concat([
        Buffer.from(VALID.slice(0, 60)),
        Buffer.alloc(512),
        Buffer.from(VALID.slice(60)),
      ]),
      'secrets.yaml': SECRETS_YAML,
    },
    says: /line \d+/,
  },
  {
    name: 'the config path is a folder',
    files: { 'configuration.yaml': 'DIR' },
    says: /folder/,
  },
  {
    name: 'secrets.yaml is corrupt',
    files: { 'configuration.yaml': VALID, 'secrets.yaml': 'garage_pin: "802514\nbroker_password: [' },
    says: /secrets\.yaml/,
  },
  {
    name: 'secrets.yaml is a folder',
    files: { 'configuration.yaml': VALID, 'secrets.yaml': 'DIR' },
    says: /secrets\.yaml.*folder/,
  },
  {
    name: 'a *_file that does not exist',
    files: {
      'configuration.yaml': VALID.replace('pin: !secret garage_pin', 'pin_file: /nonexistent/garage-pin'),
      'secrets.yaml': SECRETS_YAML,
    },
    says: /pin_file.*does not exist/,
  },
  {
    name: 'a *_file that is a folder',
    files: {
      'configuration.yaml': VALID.replace('pin: !secret garage_pin', 'pin_file: pins'),
      'secrets.yaml': SECRETS_YAML,
      pins: 'DIR',
    },
    says: /pin_file.*folder/,
  },
];

function writeCase(dir: string, files: BrokenCase['files']): void {
  for (const [name, content] of Object.entries(files)) {
    if (content === 'DIR') mkdirSync(path.join(dir, name));
    else writeFileSync(path.join(dir, name), content);
  }
}

describe('configuration files gone bad', () => {
  it.each(CASES)(
    '$name: a ConfigError that says what is wrong, no secret, no file touched',
    ({ files, says }) => {
      const dir = tempDir();
      writeCase(dir, files);
      const before = fingerprint(dir);
      const args = ['--config', path.join(dir, 'configuration.yaml')];
      let caught: unknown;
      try {
        loadConfig({ args, env: {} });
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(ConfigError);
      const error = caught as ConfigError;
      expect(error.issues.length).toBeGreaterThan(0);
      expect(error.message).toMatch(says);
      for (const secret of ['802514', 'disk-test-pw-77']) expect(error.message).not.toContain(secret);

      // `config check` says the same and exits 1.
      const written: string[] = [];
      expect(runConfigCheck(args, { write: (text) => void written.push(text) }, {})).toBe(1);
      const output = written.join('');
      expect(output).toContain('Invalid configuration');
      expect(output).not.toContain('unexpectedly');
      expect(fingerprint(dir)).toEqual(before);
    },
  );

  it('`run` with a broken config exits 1 before starting anything, and says nothing was changed', async () => {
    const dir = tempDir();
    const port = await freePort();
    writeFileSync(
      path.join(dir, 'configuration.yaml'),
      `data_dir: data\nmqtt:\n  embedded_broker: { port: ${port} }\nchargers: 7\n`,
    );
    const before = fingerprint(dir);
    const stderr: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      stderr.push(String(chunk));
      return true;
    });
    expect(await runDaemon(['--config', path.join(dir, 'configuration.yaml')], {})).toBe(1);
    expect(stderr.join('')).toMatch(/chargers.*list[\s\S]*nothing was changed/);
    // No data folder, no broker: the port is still free.
    expect(fingerprint(dir)).toEqual(before);
    expect(await freePort().then(() => true)).toBe(true);
  });
});

describe('the data folder and state files gone bad', () => {
  it('a data_dir that cannot be created stops the start with the reason and leaves nothing running', async () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'a-file'), 'not a folder');
    const port = await freePort();
    const { parseConfigText } = await import('../../src/config/index.js');
    const loaded = parseConfigText(
      `data_dir: ${path.join(dir, 'a-file', 'data')}\nmqtt:\n  embedded_broker: { host: 127.0.0.1, port: ${port} }\nchargers:\n  - { id: garage, type: bs20, transport: simulated }\n`,
      { path: path.join(dir, 'configuration.yaml'), env: {} },
    );
    const lines: string[] = [];
    const stream = new PassThrough();
    stream.on('data', (chunk: Buffer) => lines.push(chunk.toString('utf8')));
    await expect(startDaemon({ loaded, logger: createLogger({ destination: stream }) })).rejects.toThrow(
      /ENOTDIR|not a directory/,
    );
    expect(readFileSync(path.join(dir, 'a-file'), 'utf8')).toBe('not a folder');
    // The broker was never started (or was stopped): its port can be taken again.
    const { createServer } = await import('node:net');
    await new Promise<void>((resolve, reject) => {
      const server = createServer().once('error', reject);
      server.listen(port, '127.0.0.1', () => server.close(() => resolve()));
    });
  });

  it('corrupt state files are moved aside (never deleted) and the daemon starts and works', async () => {
    const lines: string[] = [];
    const stream = new PassThrough();
    stream.on('data', (chunk: Buffer) => lines.push(...chunk.toString('utf8').split('\n').filter(Boolean)));
    const corruptRetained = Buffer.from('{"format":"chargebridge-retained","messages":[{"topic":');
    const corruptRegistry = Buffer.from(random.bytes(300));
    const rig = await startDaemonRig({
      mqttYaml: `  embedded_broker:\n    host: 127.0.0.1\n    port: ${await freePort()}\n    persist_retained: true`,
      files: { 'mqtt-retained.json': corruptRetained, 'homeassistant-discovery.json': corruptRegistry },
      logger: createLogger({ destination: stream, level: 'info' }),
    });
    try {
      await waitUntil(() => rig.daemon.chargers[0]!.getState().link === 'online', rig.clock, {
        what: 'login',
      });
      await waitUntil(
        () => (rig.ha?.on('homeassistant/device/chargebridge_garage/config').length ?? 0) > 0,
        rig.clock,
        {
          what: 'discovery published',
        },
      );
      const files = readdirSync(rig.dir);
      const asideRetained = files.find((f) => f.startsWith('mqtt-retained.json.corrupt-'));
      const asideRegistry = files.find((f) => f.startsWith('homeassistant-discovery.json.corrupt-'));
      expect(asideRetained).toBeDefined();
      expect(asideRegistry).toBeDefined();
      expect(readFileSync(path.join(rig.dir, asideRetained!))).toEqual(corruptRetained);
      expect(readFileSync(path.join(rig.dir, asideRegistry!))).toEqual(corruptRegistry);
      const warnings = lines.map(parseJson).filter((l) => (l.level as number) >= 40);
      expect(warnings.map((w) => w.msg)).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/retained.*moved it aside/),
          expect.stringMatching(/discovery registry.*moved it aside/),
        ]),
      );
    } finally {
      await rig.stop();
    }
  });

  it('state files that cannot be written: warnings in the log, the daemon keeps serving Home Assistant', async () => {
    const lines: string[] = [];
    const stream = new PassThrough();
    stream.on('data', (chunk: Buffer) => lines.push(...chunk.toString('utf8').split('\n').filter(Boolean)));
    // A folder where the registry file should be: it can be neither read as a file nor replaced.
    const rig = await startDaemonRig({
      files: { 'homeassistant-discovery.json/keep-me': 'user data' },
      logger: createLogger({ destination: stream, level: 'info' }),
    });
    try {
      await waitUntil(() => rig.daemon.chargers[0]!.getState().link === 'online', rig.clock, {
        what: 'login',
      });
      await rig.ha!.publish('chargebridge/garage/set/max_current', '9');
      await waitUntil(
        () => parseJson(rig.ha!.on('chargebridge/garage').at(-1)?.text ?? '{}').max_current_a === 9,
        rig.clock,
        {
          what: 'the command applied',
          stepMs: 500,
        },
      );
      expect(readFileSync(path.join(rig.dir, 'homeassistant-discovery.json', 'keep-me'), 'utf8')).toBe(
        'user data',
      );
    } finally {
      await rig.stop();
    }
    const problems = lines.map(parseJson).filter((l) => (l.level as number) >= 40);
    expect(problems.some((p) => /discovery registry/.test(String(p.msg)))).toBe(true);
  });
});
