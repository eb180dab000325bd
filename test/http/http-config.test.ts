/** The `http.token` rule this endpoint adds: it must survive the trip in an Authorization header. */
import { describe, expect, it } from 'vitest';
import { load, problems } from '../config/helpers.js';

describe('http.token', () => {
  it('refuses spaces and non-ASCII characters, without printing the token', () => {
    for (const token of ['correct horse battery staple', 'geheimes-passwört-123', 'tab\there-0123456789']) {
      const found = problems(`http:\n  enabled: true\n  token: "${token.replace('\t', '\\t')}"\n`);
      expect(found).toHaveLength(1);
      expect(found[0]).toMatch(/^http\.token: must be printable ASCII without spaces/);
      expect(found[0]).not.toContain(token);
    }
  });

  it('takes what openssl rand gives (hex and base64)', () => {
    for (const token of ['9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822c', 'n2Jx+4Lk/9qQ0zY8Vb7s1A==']) {
      expect(load(`http:\n  enabled: true\n  token: "${token}"\n`).config.http.token).toBe(token);
    }
  });
});
