/**
 * The real CLI in a child process, as a user runs it (`node --import tsx src/main.ts run --config
 * <file>`), for tests that kill it; optionally spawned ahead and held until go(). Its log lines are kept (the last few hundred) to explain a
 * failure. CHARGEBRIDGE_* variables of the test run (a replay seed) are not passed on: the daemon
 * would read them as configuration.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '../..');
const KEEP_LINES = 400;
const HOLD_PRELOAD = './test/reliability/hold-until-go-preload.ts';

export interface DaemonProcessOptions {
  configFile: string;
  /** More `--import` modules (after tsx), relative to the repository root. */
  imports?: string[];
  env?: Record<string, string>;
  logLevel?: string;
  /** Load everything now but start only at go() (hold-until-go-preload.ts). */
  held?: boolean;
}

export class DaemonProcess {
  readonly child: ChildProcess;
  readonly lines: string[] = [];
  readonly exited: Promise<void>;
  private partial = '';

  constructor(options: DaemonProcessOptions) {
    const env: NodeJS.ProcessEnv = {};
    for (const [key, value] of Object.entries(process.env)) {
      if (!key.startsWith('CHARGEBRIDGE_')) env[key] = value;
    }
    const held = options.held ?? false;
    const imports = ['tsx', ...(options.imports ?? []), ...(held ? [HOLD_PRELOAD] : [])].flatMap((m) => [
      '--import',
      m,
    ]);
    this.child = spawn(process.execPath, [...imports, 'src/main.ts', 'run', '--config', options.configFile], {
      cwd: root,
      env: {
        ...env,
        CHARGEBRIDGE_LOG_LEVEL: options.logLevel ?? 'info',
        ...(held ? { HOLD_UNTIL_GO: '1' } : {}),
        ...options.env,
      },
      stdio: [held ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    });
    const keep = (chunk: Buffer) => {
      const text = this.partial + chunk.toString('utf8');
      const parts = text.split('\n');
      this.partial = parts.pop() ?? '';
      this.lines.push(...parts.filter((l) => l.trim() !== ''));
      if (this.lines.length > KEEP_LINES) this.lines.splice(0, this.lines.length - KEEP_LINES);
    };
    this.child.stdout?.on('data', keep);
    this.child.stderr?.on('data', keep);
    this.exited = new Promise((resolve) => {
      if (this.child.exitCode !== null || this.child.signalCode !== null) resolve();
      else this.child.once('exit', () => resolve());
    });
  }

  /** Lets a held daemon start. */
  go(): void {
    this.child.stdin?.end('go\n');
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** SIGKILL: no shutdown code runs, exactly like a power cut for the process. */
  async kill(): Promise<void> {
    if (this.running) this.child.kill('SIGKILL');
    await this.exited;
  }

  /** SIGTERM: the normal stop (bounded by the daemon's own shutdown limit). */
  async stop(): Promise<void> {
    if (this.running) this.child.kill('SIGTERM');
    await this.exited;
  }

  /** Log lines whose message matches. */
  logged(pattern: RegExp): string[] {
    return this.lines.filter((l) => pattern.test(l));
  }
}
