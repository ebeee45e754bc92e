#!/usr/bin/env node
/** The `carewall` process: runs one command line with this process's terminal. */
import { processIo } from './io.js';
import { runCommand } from './program.js';

// Commands that serve (start, demo, guard watch, vault serve) keep the process alive after
// returning; the others are done when runCommand is.
process.exitCode = await runCommand(process.argv.slice(2), processIo());
