/**
 * Starts a worker thread running one of Carewall's modules. Built, the module is JavaScript. Under
 * tsx (tests, development, `npm run bench`) it is TypeScript, and a worker's first module loads
 * before `--import tsx` has registered its hooks in that thread (privatenumber/tsx#354): the worker
 * then registers tsx itself before loading it.
 *
 * `sibling` is the module's URL relative to the caller's own (`new URL('./x.js', import.meta.url)`
 * with the caller's extension): pass the caller's import.meta.url and the file's base name.
 */
import { Worker } from 'node:worker_threads';

export function startWorker(callerUrl: string, baseName: string): Worker {
  const typescript = callerUrl.endsWith('.ts');
  const file = new URL(`./${baseName}.${typescript ? 'ts' : 'js'}`, callerUrl);
  return typescript
    ? new Worker(`import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((m) => { m.register(); return import(${JSON.stringify(file.href)}); })`, {
        eval: true,
        execArgv: [],
      })
    : new Worker(file, { execArgv: withoutTsx(process.execArgv) });
}

/**
 * The parent's Node options for a worker running built JavaScript, less tsx's loader: a process
 * started under tsx (`npm run bench`) would otherwise load it again in every worker, about 150 ms
 * each before the first task, for modules that need no compiling.
 */
function withoutTsx(execArgv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < execArgv.length; i++) {
    const arg = execArgv[i];
    if ((arg === '--import' || arg === '--require' || arg === '--loader') && /(^|\/)tsx(\/|$)/.test(execArgv[i + 1] ?? '')) i++;
    else if (!/^--(import|require|loader)=.*\btsx\b/.test(arg)) out.push(arg);
  }
  return out;
}
