/**
 * A lean entry point for one attack, for the bench: `node --import tsx run.ts DIR BEHAVIOUR PACE SEED LOG [LIMIT]`
 * (PACE "default" for the behaviour's own). `carewall guard simulate` does the same, but loads the
 * whole CLI (database, FHIR definitions), whose start-up would be timed as part of every run.
 */
import { runBehaviour } from './behaviours.js';

const [dir, behaviour, pace, seed, log, limit] = process.argv.slice(2);
await runBehaviour(behaviour, { dir, pace: pace === 'default' ? undefined : Number(pace), seed: Number(seed), log, limit: limit ? Number(limit) : undefined });
