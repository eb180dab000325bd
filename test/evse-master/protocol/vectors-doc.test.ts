/** docs/protocol.md lists the same test vectors the tests use, byte for byte. */
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { VECTORS } from './vectors.js';

it('the vectors in docs/protocol.md are the ones in vectors.ts', () => {
  const doc = readFileSync(new URL('../../../docs/protocol.md', import.meta.url), 'utf8');
  const block = doc.slice(doc.indexOf('## Test vectors'));
  const listed = Object.fromEntries(
    [...block.matchAll(/^([A-Z]\d+)\s+([0-9a-f]+)$/gm)].map((m) => [m[1] as string, m[2] as string]),
  );
  expect(listed).toEqual({ ...VECTORS });
});
