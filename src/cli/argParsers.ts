/** Option parsers shared by the commands: a wrong value is refused by commander with these words. */
import { InvalidArgumentError } from 'commander';

export const port = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('not a port number');
  return n;
};

export const wholeNumber = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('not a whole number');
  return n;
};

export const when = (v: string) => {
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw new InvalidArgumentError('not a date and time (ISO 8601, e.g. 2026-03-01T08:00:00Z)');
  return new Date(t);
};
