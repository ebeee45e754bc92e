/** The public surface of http: other folders import only from here. */
export { buildServer } from './server.js';
