/** Opens the installation for one command and always closes it (its embedded database lock with it). */
import type { Carewall } from '../runtime.js';

export function opener(open: (dataDir: string) => Promise<Carewall>) {
  return async <T>(dataDir: string, fn: (cw: Carewall) => Promise<T>): Promise<T> => {
    const cw = await open(dataDir);
    try {
      return await fn(cw);
    } finally {
      await cw.close();
    }
  };
}
