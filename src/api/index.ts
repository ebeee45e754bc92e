/**
 * The console API's shapes, defined once as JSON Schemas (TypeBox) that are also TypeScript types:
 * the server's routes declare them (inputs validated, answers serialised by them) and the console
 * checks each answer against them before using it (check.ts). Free of Node-only imports: the
 * console's bundle (Vite) includes this folder.
 */
export { ApiErrorBody, Digits, Nullable, OneOf, Time } from './shapes.js';
export { checkShape, ShapeError } from './check.js';
export { FhirResource, FhirSearchset } from './fhir.js';
export * from './session.js';
export * from './access.js';
export * from './monitor.js';
export * from './guard.js';
export * from './audit.js';
export * from './releases.js';
export * from './director.js';
export * from './inventory.js';
export * from './advisories.js';
export * from './awareness.js';
export * from './posture.js';
