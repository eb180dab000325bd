/**
 * vitest globalSetup: decides once, in the main process, which system programs are missing and
 * passes the answer to every worker in CB_TEST_MISSING (the workers start after this and inherit
 * the environment), so all test files skip the same suites and the report matches them. With
 * CB_TEST_REQUIRE_SYSTEM=1 (CI) a missing program fails the run before any test starts.
 */
import { installCommand, missingPrograms, PROGRAMS } from './system-programs.js';

export default function setup(): void {
  const missing = missingPrograms();
  process.env.CB_TEST_MISSING = missing.join(',');
  if (process.env.CB_TEST_REQUIRE_SYSTEM === '1' && missing.length > 0) {
    const names = missing.map((p) => PROGRAMS[p].aptPackage).join(' and ');
    console.error(
      `\nCB_TEST_REQUIRE_SYSTEM=1, but ${names} ${missing.length === 1 ? 'is' : 'are'} not installed: ` +
        `no test runs.\nInstall with: ${installCommand(missing)}\n`,
    );
    // Exit here: a throw makes vitest print "No test files found" and a stack trace around this.
    process.exit(1);
  }
}
