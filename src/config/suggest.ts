/** "Did you mean …?" for unknown keys and enum values: typos in YAML are the #1 support issue. */

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_v, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution);
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/** Folds the spellings people mix up: case, camelCase, dashes, spaces. */
function normalise(word: string): string {
  return word
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .replace(/[\s-]+/g, '_');
}

/** The candidate the user most likely meant, or undefined when nothing is close enough. */
export function closestMatch(input: string, candidates: readonly string[]): string | undefined {
  const wanted = normalise(input);
  if (wanted === '') return undefined;
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of candidates) {
    const normalised = normalise(candidate);
    if (normalised === wanted) return candidate;
    const distance = editDistance(wanted, normalised);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  const allowed = Math.max(2, Math.floor(wanted.length / 3));
  if (best !== undefined && bestDistance <= allowed) return best;
  // A truncated or extended word ("discovery" for "discovery_prefix", "warning" for "warn") is far
  // in edits but obvious to a human.
  return candidates.find((c) => {
    const candidate = normalise(c);
    const [shorter, longer] = candidate.length < wanted.length ? [candidate, wanted] : [wanted, candidate];
    return shorter.length >= 4 && longer.startsWith(shorter);
  });
}

/** ` (did you mean "x"?)`, or an empty string. */
export function didYouMean(input: string, candidates: readonly string[]): string {
  const match = closestMatch(input, candidates);
  return match === undefined || match === input ? '' : ` (did you mean "${match}"?)`;
}
