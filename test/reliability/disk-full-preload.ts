/**
 * Loaded with `--import` into a daemon started by a test: a disk that fills up on cue. While the file
 * named by DISK_FULL_WHEN exists, every file opened for writing whose path matches the regular
 * expression DISK_FULL_MATCH (created or already open) takes no bytes (ENOSPC), as on a full disk. Running as
 * root, chmod cannot make a folder unwritable; this reaches the same code path from the first
 * failing byte. Only `node:fs/promises` open is patched (the session store writes through it).
 */
import { existsSync } from 'node:fs';
import { createRequire, syncBuiltinESMExports } from 'node:module';

const when = process.env.DISK_FULL_WHEN;
const match = process.env.DISK_FULL_MATCH;
if (when && match) {
  const pattern = new RegExp(match);
  const fsp = createRequire(import.meta.url)('node:fs/promises') as typeof import('node:fs/promises');
  const realOpen = fsp.open;
  const full = (path: string) =>
    Object.assign(new Error(`ENOSPC: no space left on device, write '${path}'`), {
      code: 'ENOSPC',
      errno: -28,
      syscall: 'write',
      path,
    });
  const patched = async (...args: Parameters<typeof realOpen>) => {
    const handle = await realOpen(...args);
    const [path, flags] = args;
    const writing = typeof flags === 'string' && /[wa]/.test(flags);
    if (!writing || !pattern.test(String(path))) return handle;
    // Checked at each write: a file opened before the disk filled up (a journal) fails from then on.
    return new Proxy(handle, {
      get(target, key) {
        if ((key === 'writeFile' || key === 'write' || key === 'appendFile') && existsSync(when)) {
          return async () => {
            throw full(String(path));
          };
        }
        const value = Reflect.get(target, key, target) as unknown;
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
  };
  fsp.open = patched as typeof realOpen;
  syncBuiltinESMExports();
}
