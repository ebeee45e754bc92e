/**
 * Route schemas compiled once per process, not once per server.
 *
 * Why: Fastify compiles every route's request validators (Ajv) and response serializers
 * (fast-json-stringify, which generates code) each time a server starts, with a fresh compiler per
 * server. Measured: 240 ms of a server's start, more than opening the embedded database (15 starts:
 * serializers 2.1 s, validators 1.4 s of CPU). A process that starts more than one server pays it
 * again each time: the test suite starts several hundred. A compiled function depends only on the schema,
 * the part of the request it checks and the compiler's options, all fixed by the code, so it is kept
 * under their JSON and handed to the next server. These are Fastify's own compilers (the packages it
 * uses by default, at its versions), so what is accepted and refused does not change.
 *
 * Given as a custom compiler, Fastify stops lower-casing the names in a route's `headers` schema;
 * Carewall's routes have none (they check bodies, query strings and path parameters).
 */
import { AjvCompiler } from '@fastify/ajv-compiler';
import { SerializerSelector } from '@fastify/fast-json-stringify-compiler';

interface RouteSchema {
  schema: unknown;
  httpPart?: string;
  httpStatus?: string;
  contentType?: string;
}
type Compile = (route: RouteSchema) => unknown;
type Factory = (externalSchemas: unknown, options: unknown) => Compile;

function compiledOnce(factory: Factory): Factory {
  const compiled = new Map<string, unknown>();
  return (externalSchemas, options) => {
    const compile = factory(externalSchemas, options);
    const settings = JSON.stringify([externalSchemas, options]);
    return (route) => {
      const key = JSON.stringify([settings, route.httpPart ?? null, route.contentType ?? null, route.schema]);
      let fn = compiled.get(key);
      if (fn === undefined) {
        fn = compile(route);
        compiled.set(key, fn);
      }
      return fn;
    };
  };
}

/** For `Fastify({ schemaController: { compilersFactory } })`. */
export const compilersFactory = {
  buildValidator: compiledOnce(AjvCompiler() as unknown as Factory),
  buildSerializer: compiledOnce(SerializerSelector() as unknown as Factory),
};
