/**
 * Running the Python interop scripts (Debian's python3 with paho-mqtt) from vitest: one-shot scripts
 * that print JSON lines, and a long-lived script driven step by step over stdin/stdout JSON lines.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { pahoPython } from '../helpers/system-programs.js';

export type JsonLine = Record<string, unknown>;

export function scriptPath(name: string): string {
  return fileURLToPath(new URL(`./${name}`, import.meta.url));
}

function python(): string {
  const binary = pahoPython();
  if (!binary) throw new Error('no python3 with paho-mqtt (apt-get install python3-paho-mqtt)');
  return binary;
}

/** Runs a script to the end and returns the JSON lines it printed; rejects on a non-zero exit. */
export function runJsonLines(
  script: string,
  args: readonly string[],
  timeoutMs: number,
): Promise<JsonLine[]> {
  return new Promise((resolve, reject) => {
    // -u: unbuffered, so a killed run still shows what it printed.
    const child = spawn(python(), ['-u', scriptPath(script), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const lines: JsonLine[] = [];
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (line.trim()) lines.push(JSON.parse(line) as JsonLine);
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(lines);
      else
        reject(
          new Error(
            `${script} ${args.join(' ')} ended with ${signal ?? `exit code ${code}`} after ${lines.length} lines: ${stderr.slice(-2000)}`,
          ),
        );
    });
  });
}

/**
 * A script that reads one JSON command per stdin line and prints JSON events. The test decides when
 * each step happens (and moves its simulated clock in between); waits are bounded in real time.
 */
export class ScriptSession {
  readonly events: JsonLine[] = [];
  private stderr = '';
  private exited: string | undefined;
  private wakeups: Array<() => void> = [];

  private constructor(private readonly child: ChildProcessWithoutNullStreams) {
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderr += chunk;
    });
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (!line.trim()) return;
      this.events.push(JSON.parse(line) as JsonLine);
      this.wake();
    });
    child.once('close', (code, signal) => {
      this.exited = signal ?? `exit code ${code}`;
      this.wake();
    });
  }

  static start(script: string, args: readonly string[] = []): ScriptSession {
    const child = spawn(python(), ['-u', scriptPath(script), ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    return new ScriptSession(child);
  }

  send(command: JsonLine): void {
    this.child.stdin.write(`${JSON.stringify(command)}\n`);
  }

  /**
   * The first event (already printed or still to come) matching `match`. `between` runs while
   * waiting (e.g. to move a simulated clock), at most every `stepMs` of real time.
   */
  async next(
    match: (event: JsonLine) => boolean,
    options: {
      timeoutMs?: number;
      between?: () => Promise<void>;
      stepMs?: number;
      what?: string;
      /** Only events from this index on (e.g. `events.length` before sending a command). */
      from?: number;
    } = {},
  ): Promise<JsonLine> {
    const deadline = Date.now() + (options.timeoutMs ?? 5_000);
    for (;;) {
      const found = this.events.slice(options.from ?? 0).find(match);
      if (found) return found;
      if (this.exited !== undefined) {
        throw new Error(
          `script ended (${this.exited}) before ${options.what ?? 'the event'}: ${this.stderr}`,
        );
      }
      if (Date.now() > deadline) {
        const seen = this.events.map((e) => JSON.stringify(e).slice(0, 200)).join('\n  ');
        throw new Error(`no ${options.what ?? 'matching event'} from the script; it printed:\n  ${seen}`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, options.stepMs ?? 20);
        this.wakeups.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
      await options.between?.();
    }
  }

  /** Ends the script: closes stdin (it exits on EOF) and kills it if it lingers. */
  async stop(): Promise<void> {
    if (this.exited !== undefined) return;
    const closed = new Promise<void>((resolve) => this.child.once('close', () => resolve()));
    this.child.stdin.end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 3_000);
    await closed;
    clearTimeout(timer);
  }

  private wake(): void {
    for (const wakeup of this.wakeups.splice(0)) wakeup();
  }
}
