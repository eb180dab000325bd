/**
 * Loaded with `--import` (after tsx) into a daemon a test starts many times: with HOLD_UNTIL_GO=1 it
 * loads the daemon's modules, then holds the CLI back until a line arrives on stdin. A test can
 * spawn the next daemon while the current one runs and let it go the moment the current one is
 * killed: ~2 s of module loading per start leave the critical path. Nothing is read or written
 * before the go; after it the CLI runs exactly as `chargebridge run`.
 */
export {};

if (process.env.HOLD_UNTIL_GO === '1') {
  await import('../../src/cli/run.js');
  await new Promise<void>((resolve) => process.stdin.once('data', () => resolve()));
  process.stdin.destroy();
}
