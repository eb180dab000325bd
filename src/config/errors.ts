/** What a user sees when the configuration is wrong: every problem, each with its key path. */

export interface ConfigIssue {
  /** Key path in the file's spelling, e.g. `chargers[0].pin`; empty for the file as a whole. */
  path: string;
  /** What is wrong, what is allowed and the bad value (secrets shown as `[redacted]`). */
  message: string;
  /** 1-based position in the config file, when the problem is in the file. */
  line?: number;
  column?: number;
}

export type PathSegment = string | number;

export function formatPath(path: readonly PathSegment[]): string {
  let out = '';
  for (const segment of path) {
    out += typeof segment === 'number' ? `[${segment}]` : out === '' ? segment : `.${segment}`;
  }
  return out;
}

function formatIssue(issue: ConfigIssue): string {
  const where =
    issue.line === undefined
      ? ''
      : `line ${issue.line}${issue.column === undefined ? '' : `, column ${issue.column}`}`;
  if (issue.path === '') return where ? `${where}: ${issue.message}` : issue.message;
  return `${issue.path}${where ? ` (${where})` : ''}: ${issue.message}`;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly issues: ConfigIssue[];
  /** The config file the problems are in, or null when none was read. */
  readonly file: string | null;

  constructor(issues: ConfigIssue[], file: string | null) {
    const count = issues.length === 1 ? '1 problem' : `${issues.length} problems`;
    const heading =
      file === null ? `Invalid configuration (${count}):` : `Invalid configuration in ${file} (${count}):`;
    super([heading, ...issues.map((issue) => `  - ${formatIssue(issue)}`)].join('\n'));
    this.issues = issues;
    this.file = file;
  }
}
