/**
 * `chargebridge config check [--config <path>]`: validates the configuration and prints the
 * effective result (defaults and environment overrides applied) as YAML, secrets redacted —
 * safe to paste into a bug report. Exit code 0 when valid, 1 with every problem otherwise.
 */
import { stringify } from 'yaml';
import { snakifyKeys } from '../config/casing.js';
import { CONFIG_PATH_VARIABLE } from '../config/env.js';
import { ConfigError } from '../config/errors.js';
import { loadConfig } from '../config/load.js';
import { redactConfig } from '../config/redact.js';

export interface TextOutput {
  write(text: string): void;
}

export function runConfigCheck(
  args: string[],
  out: TextOutput,
  env: NodeJS.ProcessEnv = process.env,
): number {
  try {
    const loaded = loadConfig({ args, env });
    if (loaded.isDemo) {
      out.write(
        `No configuration file at ${loaded.path}: chargebridge would run the DEMO configuration (one simulated BS20 charger).\n` +
          `Create that file, or pass --config <path> / set ${CONFIG_PATH_VARIABLE}; config/chargebridge.example.yaml lists every option.\n\n`,
      );
    } else {
      out.write(`Configuration ${loaded.path} is valid.\n\n`);
    }
    const effective = snakifyKeys(redactConfig(loaded.config, loaded.secretValues));
    out.write('# Effective configuration (defaults and environment overrides applied, secrets redacted):\n');
    out.write(stringify(effective, { lineWidth: 0 }));
    return 0;
  } catch (error) {
    if (error instanceof ConfigError) {
      out.write(`${error.message}\n`);
      return 1;
    }
    out.write(`config check failed unexpectedly: ${(error as Error).message}\n`);
    return 1;
  }
}
