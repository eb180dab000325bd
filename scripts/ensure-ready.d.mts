// Types for ensure-ready.mjs (plain JavaScript: it runs before the dependencies, TypeScript included, are installed).

/** Runs a command with its output shown; returns the exit code, null when a signal ended it. */
export type CommandRunner = (command: string, args: string[], cwd: string) => number | null;

export function dependenciesOutdated(root: string): string | undefined;
export function buildOutdated(root: string): string | undefined;
export function npmCommand(env?: NodeJS.ProcessEnv, nodePath?: string): [string, string[]];
export function ensureReady(options?: {
  root?: string;
  build?: boolean;
  run?: CommandRunner;
  log?: (line: string) => void;
  env?: NodeJS.ProcessEnv;
  nodePath?: string;
}): Array<'install' | 'build'>;
