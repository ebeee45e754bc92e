/** Building blocks of the API's shapes, kept to what both Ajv (server) and TypeBox's Value (console) read alike. */
import { Type, type TLiteral, type TSchema, type TUnion } from '@sinclair/typebox';

type Literals<T extends string[]> = { [K in keyof T]: TLiteral<T[K]> };

/**
 * One of a few fixed words (an anyOf of consts: the server's refusal names the words, see
 * http/schemaErrors.ts). The assertion only restores the tuple type that `map` loses.
 */
export const OneOf = <const T extends [string, ...string[]]>(values: T): TUnion<Literals<T>> =>
  Type.Union(values.map((v) => Type.Literal(v))) as unknown as TUnion<Literals<T>>;

export const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

/**
 * Timestamps are ISO 8601 strings. No `format` keyword: the console checks without a format
 * registry, and the server writes these itself (toISOString).
 */
export const Time = Type.String();

/** A whole number given in a query string (querystrings are not coerced: see http/server.ts). */
export const Digits = Type.String({ pattern: '^[0-9]{1,9}$' });

/** Every non-FHIR error answer: one sentence written by Carewall (http/server.ts, error handler). */
export const ApiErrorBody = Type.Object({ error: Type.String() });
