/**
 * `chargebridge run` with stdout not a terminal (Docker, a pipe into jq): stdout carries one JSON
 * object a line and nothing else, also in demo mode, where the start banner becomes log lines and
 * the broker's password never appears.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { freePort } from '../helpers/mosquitto.js';

const root = path.resolve(import.meta.dirname, '../..');
// Resolved from the repository: the daemon runs in a temp folder that has no node_modules.
const tsx = import.meta.resolve('tsx');
let child: ChildProcess | undefined;
let dir: string | undefined;
afterEach(() => {
  child?.kill('SIGKILL');
  if (dir) rmSync(dir, { recursive: true, force: true });
  child = undefined;
  dir = undefined;
});

/** Top-level keys of one JSON object line, in order, as written (JSON.parse would hide repeats). */
function topLevelKeys(line: string): string[] {
  const keys: string[] = [];
  let depth = 0;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === '"') {
      const start = i;
      for (i++; line[i] !== '"'; i++) if (line[i] === '\\') i++;
      if (depth === 1 && line[i + 1] === ':') keys.push(JSON.parse(line.slice(start, i + 1)) as string);
    } else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') depth--;
  }
  return keys;
}

it('demo mode on a pipe: JSON lines only, the demo and the Home Assistant connection said as log lines', async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'cb-run-json-'));
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env))
    if (!key.startsWith('CHARGEBRIDGE_')) env[key] = value;
  delete env.JOURNAL_STREAM;
  // No configuration file in the working folder: the demo. Its broker only on loopback, a free port.
  child = spawn(process.execPath, ['--import', tsx, path.join(root, 'src/main.ts'), 'run'], {
    cwd: dir,
    env: {
      ...env,
      CHARGEBRIDGE_MQTT__EMBEDDED_BROKER__HOST: '127.0.0.1',
      CHARGEBRIDGE_MQTT__EMBEDDED_BROKER__PORT: String(await freePort()),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  const exited = new Promise<number | null>((resolve) => child?.once('exit', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    child?.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
      // Stop once the charger has logged in: the demo is fully up.
      if (stdout.includes('logged in to the charger')) resolve();
    });
    void exited.then((code) => reject(new Error(`exited early with ${code}: ${stdout}${stderr}`)));
  });
  child.kill('SIGINT');
  expect(await exited).toBe(0);

  const lines = stdout.split('\n').filter((l) => l !== '');
  const records = lines.map((line) => {
    expect(line.startsWith('{'), `not a JSON line: ${line}`).toBe(true);
    const keys = topLevelKeys(line);
    expect(new Set(keys).size, `repeated key in ${line}`).toBe(keys.length);
    return JSON.parse(line) as Record<string, unknown>;
  });
  const password = (
    JSON.parse(readFileSync(path.join(dir, 'data', 'mqtt-login.json'), 'utf8')) as { password: string }
  ).password;
  expect(stdout).not.toContain(password);
  expect(stdout).not.toContain('chargebridge is running in DEMO mode');
  expect(records.find((r) => String(r.msg).startsWith('DEMO mode'))).toMatchObject({ level: 40 });
  expect(records.find((r) => r.msg === 'point Home Assistant at this MQTT broker')).toMatchObject({
    homeAssistant: { username: 'homeassistant', passwordShownBy: 'chargebridge mqtt-login', protocol: 5 },
  });
  expect(records.at(-1)?.msg).toBe('stopped');
  expect(stderr).toBe('');
});
