/** The public surface of setup: other folders import only from here. */
export { install } from './install.js';
export { assertLoopback, serve } from './serve.js';
