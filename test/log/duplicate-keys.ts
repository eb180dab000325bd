/**
 * Finds repeated keys in the raw text of one JSON value. JSON.parse keeps the last of two equal
 * keys without a word, so a duplicate is only visible in the text: this walks it once, at every depth.
 */
export function duplicateKeys(text: string): string[] {
  let i = 0;
  const found: string[] = [];

  const skipSpace = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i] ?? '')) i++;
  };
  const expect = (char: string) => {
    if (text[i] !== char) throw new Error(`expected ${char} at ${i} in ${text}`);
    i++;
  };
  const readString = (): string => {
    const start = i;
    expect('"');
    while (text[i] !== '"') {
      if (i >= text.length) throw new Error(`unterminated string in ${text}`);
      i += text[i] === '\\' ? 2 : 1;
    }
    i++;
    return JSON.parse(text.slice(start, i)) as string;
  };
  const readValue = (path: string): void => {
    skipSpace();
    const c = text[i];
    if (c === '{') {
      i++;
      const keys = new Set<string>();
      skipSpace();
      if (text[i] === '}') {
        i++;
        return;
      }
      for (;;) {
        skipSpace();
        const key = readString();
        if (keys.has(key)) found.push(`${path}${key}`);
        keys.add(key);
        skipSpace();
        expect(':');
        readValue(`${path}${key}.`);
        skipSpace();
        if (text[i] === ',') {
          i++;
          continue;
        }
        expect('}');
        return;
      }
    }
    if (c === '[') {
      i++;
      skipSpace();
      if (text[i] === ']') {
        i++;
        return;
      }
      for (let n = 0; ; n++) {
        readValue(`${path}${n}.`);
        skipSpace();
        if (text[i] === ',') {
          i++;
          continue;
        }
        expect(']');
        return;
      }
    }
    if (c === '"') {
      readString();
      return;
    }
    const literal = /^(?:-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null)/.exec(text.slice(i));
    if (!literal) throw new Error(`unexpected ${c} at ${i} in ${text}`);
    i += literal[0].length;
  };

  readValue('');
  skipSpace();
  if (i !== text.length) throw new Error(`trailing text at ${i} in ${text}`);
  return found;
}
