/** The daemon's version, read once from package.json (origin.sw_version in HA, bridge/info, --version). */
import { readFileSync } from 'node:fs';

let cached: string | null = null;

export function chargebridgeVersion(): string {
  if (cached) return cached;
  try {
    const url = new URL('../../package.json', import.meta.url);
    const pkg = JSON.parse(readFileSync(url, 'utf8')) as { version?: string };
    cached = pkg.version ?? '0.0.0';
  } catch {
    cached = '0.0.0';
  }
  return cached;
}
