/**
 * Reads a YAML text into plain values, keeping enough of the document to point a problem at its
 * line. `!secret name` becomes a SecretRef, resolved later against secrets.yaml (see secrets.ts).
 */
import {
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  parseDocument,
  type ScalarTag,
  type YAMLError,
} from 'yaml';
import type { ConfigIssue, PathSegment } from './errors.js';

/** A `!secret name` placeholder found in the config file. */
export class SecretRef {
  constructor(readonly name: string) {}
}

const secretTag: ScalarTag = {
  tag: '!secret',
  identify: (value) => value instanceof SecretRef,
  resolve: (name) => new SecretRef(name.trim()),
};

export interface Position {
  line: number;
  column: number;
}

export interface YamlSource {
  /** The parsed value; undefined when the text had syntax errors. */
  value: unknown;
  /** Syntax problems, each with its line and column. */
  issues: ConfigIssue[];
  /** Where a key path is written in the text (the nearest existing parent for a missing key). */
  locate(path: readonly PathSegment[]): Position | undefined;
  /** The text of a scalar exactly as written (`012345`, not 12345). */
  sourceText(path: readonly PathSegment[]): string | undefined;
}

function describeYamlError(error: YAMLError): string {
  // The library appends "at line X, column Y:" and a code excerpt; line and column are separate fields here.
  const first = error.message.replace(/ at line \d+, column \d+:[\s\S]*$/, '').trim();
  if (error.code === 'TAG_RESOLVE_FAILED') {
    const tag = /Unresolved tag: (\S+)/.exec(first)?.[1] ?? '';
    return tag === '!secret'
      ? '!secret needs a name, e.g. password: !secret mqtt_password'
      : `unknown YAML tag ${tag}; chargebridge understands only !secret, e.g. password: !secret mqtt_password`;
  }
  // The parser quotes the offending text, which can be a password on a broken line: the line and
  // column already say where, so the quote is left out.
  return `YAML syntax error: ${first.replace(/:\s*"[\s\S]*"$/, '')}`;
}

/** Aliases and merges are resolved here; a broken one is a configuration error, not a crash. */
function toPlainValue(doc: ReturnType<typeof parseDocument>): { value: unknown; issue: ConfigIssue | null } {
  try {
    return { value: doc.toJS({ maxAliasCount: 100 }), issue: null };
  } catch (err) {
    const reason = err instanceof Error ? err.message.split('\n')[0] : String(err);
    return {
      value: undefined,
      issue: { path: '', message: `YAML anchors, aliases or merge keys: ${reason}` },
    };
  }
}

export function parseYamlSource(text: string): YamlSource {
  const lines = new LineCounter();
  const doc = parseDocument(text, {
    customTags: [secretTag],
    lineCounter: lines,
    // `<<: *defaults` merge keys, as Home Assistant users write them for similar chargers.
    merge: true,
  });
  // Warnings (unknown tags) would silently turn a value into plain text: treat them as errors.
  const problems = [...doc.errors, ...doc.warnings];
  const issues: ConfigIssue[] = problems.map((error) => {
    const at = error.linePos?.[0];
    return {
      path: '',
      message: describeYamlError(error),
      ...(at ? { line: at.line, column: at.col } : {}),
    };
  });

  const nodeAt = (path: readonly PathSegment[]): { node: unknown; range: Node['range'] | undefined } => {
    let node: unknown = doc.contents;
    let range: Node['range'] | undefined;
    for (const segment of path) {
      if (isMap(node)) {
        const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(segment));
        if (!pair) return { node: undefined, range };
        range = isScalar(pair.key) ? pair.key.range : range;
        node = pair.value;
      } else if (isSeq(node) && typeof segment === 'number') {
        const item = node.items[segment];
        if (!item) return { node: undefined, range };
        range = (item as Node).range ?? range;
        node = item;
      } else {
        return { node: undefined, range };
      }
    }
    return { node, range };
  };

  const plain = issues.length > 0 ? { value: undefined, issue: null } : toPlainValue(doc);
  if (plain.issue) issues.push(plain.issue);
  return {
    value: plain.value,
    issues,
    locate(path) {
      const { range } = nodeAt(path);
      if (!range) return undefined;
      const { line, col } = lines.linePos(range[0]);
      return { line, column: col };
    },
    sourceText(path) {
      const { node } = nodeAt(path);
      return isScalar(node) && typeof node.source === 'string' ? node.source : undefined;
    },
  };
}
