/**
 * NDJSON reading for the monitor: line by line from a stream, so a file of any length costs the
 * memory of one chunk. A malformed line stops everything with `file:line` (never the line's text:
 * it may hold patient data).
 */
import fs from 'node:fs';
import path from 'node:path';

export class MonitorInputError extends Error {}

/**
 * A FHIR resource as read from a log written by someone else: any field may be missing or of any
 * shape, and the readers check each one they use (BALP allows several shapes), so `any` is honest.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = Record<string, any>;

/**
 * Calls `onRecord` for each non-empty line's parsed JSON, in order. Splitting chunks by hand is
 * several times cheaper per line than node:readline's async iterator, and the scan reads millions.
 */
export function forEachRecord(file: string, onRecord: (value: unknown, line: number) => void): Promise<number> {
  const name = path.basename(file);
  return new Promise((resolve, reject) => {
    const stream = fs.createReadStream(file, { encoding: 'utf8', highWaterMark: 1 << 20 });
    let rest = '';
    let line = 0;
    let failed = false;
    const handle = (text: string) => {
      line++;
      if (text.length === 0 || /^\s*$/.test(text)) return;
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {
        throw new MonitorInputError(`${name}:${line}: not valid JSON`);
      }
      if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new MonitorInputError(`${name}:${line}: not a JSON object`);
      onRecord(value, line);
    };
    const fail = (err: unknown) => {
      failed = true;
      stream.destroy();
      reject(err instanceof MonitorInputError ? err : new MonitorInputError(`${name}:${line}: ${err instanceof Error ? err.message : String(err)}`));
    };
    stream.on('data', (chunk) => {
      if (failed) return;
      const text = rest + (chunk as string);
      let start = 0;
      try {
        for (let nl = text.indexOf('\n', start); nl >= 0; nl = text.indexOf('\n', start)) {
          handle(text.charCodeAt(nl - 1) === 13 ? text.slice(start, nl - 1) : text.slice(start, nl));
          start = nl + 1;
        }
      } catch (err) {
        fail(err);
        return;
      }
      rest = text.slice(start);
    });
    stream.on('error', (err) => !failed && fail(new MonitorInputError(`${name}: cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`)));
    stream.on('end', () => {
      if (failed) return;
      try {
        if (rest.length > 0) handle(rest);
      } catch (err) {
        fail(err);
        return;
      }
      resolve(line);
    });
  });
}

/** Writes NDJSON through a stream with back-pressure. */
export class NdjsonWriter {
  private readonly stream: fs.WriteStream;
  private buffer: string[] = [];
  private bytes = 0;
  count = 0;

  constructor(readonly file: string) {
    this.stream = fs.createWriteStream(file, { encoding: 'utf8' });
  }

  /** Buffers a record; await the result to let the stream drain (at 1 MiB). */
  write(value: unknown): Promise<void> | undefined {
    const text = JSON.stringify(value);
    this.buffer.push(text);
    this.bytes += text.length + 1;
    this.count++;
    if (this.bytes < 1 << 20) return undefined;
    return this.flush();
  }

  private flush(): Promise<void> | undefined {
    if (this.buffer.length === 0) return undefined;
    const ok = this.stream.write(this.buffer.join('\n') + '\n');
    this.buffer = [];
    this.bytes = 0;
    return ok ? undefined : new Promise((resolve) => this.stream.once('drain', () => resolve()));
  }

  async close(): Promise<void> {
    await this.flush();
    await new Promise<void>((resolve, reject) => this.stream.end((err?: Error | null) => (err ? reject(err) : resolve())));
  }
}
