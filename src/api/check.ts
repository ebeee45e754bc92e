/**
 * The console's check of an answer against its shape, before any screen uses it. Interpreted
 * (TypeBox's Value), not compiled: the console's Content-Security-Policy allows no eval.
 */
import type { Static, TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';

/** An answer whose shape is not the one its route declares (a server of another version, a proxy's page). */
export class ShapeError extends Error {
  constructor(
    readonly what: string,
    /** Where in the answer, as a JSON pointer ('' for the whole answer). */
    readonly at: string,
    readonly problem: string,
  ) {
    // Names the place and the expectation, never the value found there: it may be patient data.
    super(
      `The server's answer to ${what} is not in the form this console expects (${at === '' ? 'the whole answer' : `at ${at}`}: ${problem.toLowerCase()}). ` +
        'Reload the page; if this persists, the console and the server may be of different versions.',
    );
    this.name = 'ShapeError';
  }
}

/** `value` as the shape's type, or a ShapeError naming the first place it differs. */
export function checkShape<S extends TSchema>(shape: S, value: unknown, what: string): Static<S> {
  if (Value.Check(shape, value)) return value;
  const first = Value.Errors(shape, value).First();
  throw new ShapeError(what, first?.path ?? '', first?.message ?? 'unexpected value');
}
