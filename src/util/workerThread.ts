/**
 * Where a worker thread finds one of Carewall's modules, and with which Node options. Built, the
 * module is JavaScript. Under tsx (tests, development, `npm run bench`) it is TypeScript, and a
 * worker's first module loads before `--import tsx` has registered its hooks in that thread
 * (privatenumber/tsx#354): the worker then registers tsx itself before loading it (startWorker
 * here; poolWorker.js for a WorkerPool's threads).
 *
 * `callerUrl` and `baseName` name the module relative to the caller's own file: the caller's
 * import.meta.url and the file's base name (its extension is the caller's, .js or .ts).
 */
import { Worker } from 'node:worker_threads';

/** The module `baseName` beside `callerUrl`, with the caller's extension. */
export function workerModuleUrl(callerUrl: string, baseName: string): URL {
  return new URL(`./${baseName}.${callerUrl.endsWith('.ts') ? 'ts' : 'js'}`, callerUrl);
}

/** One thread running the module (its top level; see serveWorker, workerTask.ts). */
export function startWorker(callerUrl: string, baseName: string): Worker {
  const file = workerModuleUrl(callerUrl, baseName);
  return file.href.endsWith('.ts')
    ? new Worker(`import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((m) => { m.register(); return import(${JSON.stringify(file.href)}); })`, {
        eval: true,
        execArgv: [],
      })
    : new Worker(file, { execArgv: withoutTsx(process.execArgv) });
}

/**
 * The parent's Node options for a worker, less tsx's loader: a process started under tsx (`npm run
 * bench`) would otherwise load it again in every worker, about 150 ms each before the first task,
 * for modules that need no compiling (and a worker that does compile registers tsx itself).
 */
export function withoutTsx(execArgv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < execArgv.length; i++) {
    const arg = execArgv[i];
    if ((arg === '--import' || arg === '--require' || arg === '--loader') && /(^|\/)tsx(\/|$)/.test(execArgv[i + 1] ?? '')) i++;
    else if (!/^--(import|require|loader)=.*\btsx\b/.test(arg)) out.push(arg);
  }
  return out;
}
