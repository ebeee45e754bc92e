/**
 * Route schemas are compiled once per process (src/http/schemaCompilers.ts): a second server gets the
 * first one's compiled functions, and only where the schema, the request part and the compiler's
 * options are all the same.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compilersFactory } from '../src/http/schemaCompilers.js';

const strict = { customOptions: { coerceTypes: false, removeAdditional: false, useDefaults: false, verbose: true }, plugins: [] };
const coercing = { customOptions: { coerceTypes: true, removeAdditional: false, useDefaults: false }, plugins: [] };
const count = () => ({ type: 'object', properties: { n: { type: 'integer' } }, required: ['n'], additionalProperties: false });

test("a second server's validator for the same schema is the first one's, and checks the same", () => {
  const first = compilersFactory.buildValidator({}, strict)({ schema: count(), httpPart: 'body' }) as (v: unknown) => boolean;
  const second = compilersFactory.buildValidator({}, strict)({ schema: count(), httpPart: 'body' }) as (v: unknown) => boolean;
  assert.equal(second, first);
  assert.equal(second({ n: 3 }), true);
  assert.equal(second({ n: '3' }), false, 'a string where the schema wants a number is refused');
  assert.equal(second({ n: 3, extra: 1 }), false);
});

test('other compiler options or another request part get a validator of their own', () => {
  const strictBody = compilersFactory.buildValidator({}, strict)({ schema: count(), httpPart: 'body' }) as (v: unknown) => boolean;
  const coercingBody = compilersFactory.buildValidator({}, coercing)({ schema: count(), httpPart: 'body' }) as (v: unknown) => boolean;
  assert.notEqual(coercingBody, strictBody);
  assert.equal(coercingBody({ n: '3' }), true, 'coercion was asked for here');
  assert.equal(strictBody({ n: '3' }), false, 'and not here: the strict one is not handed the coercing one');
  const query = compilersFactory.buildValidator({}, strict)({ schema: count(), httpPart: 'querystring' });
  assert.notEqual(query, strictBody);
});

test('a response serializer is compiled once and writes only what its schema names', () => {
  const schema = { type: 'object', properties: { name: { type: 'string' } } };
  const first = compilersFactory.buildSerializer({}, undefined)({ schema, httpStatus: '200' }) as (v: unknown) => string;
  const second = compilersFactory.buildSerializer({}, undefined)({ schema: { ...schema }, httpStatus: '200' }) as (v: unknown) => string;
  assert.equal(second, first);
  assert.equal(second({ name: 'Parker', secret: 'not in the schema' }), '{"name":"Parker"}');
});
