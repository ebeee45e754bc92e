/**
 * Tuning aid for the insider-misuse monitor: simulates hospitals with convention draws given on
 * the command line (500 staff × 21 days, as bench/monitor.ts's held-out draws), keeps them in a
 * cache folder so that a change to the detectors is measured on the same bytes, scans each and
 * prints per draw the false alerts by scenario and the incidents missed, then recall per scenario.
 * Use draws 1-4 (the tuning draws) while iterating; bench/monitor.ts reports the held-out ones.
 *
 *   npx tsx bench/monitorDraws.ts [--days D] [--users U] [--cache DIR] [--verbose] 1 2 3 4
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SCENARIO_CODES, type TruthIncident } from '../src/monitor/catalog.js';
import { evaluate } from '../src/monitor/evaluate.js';
import { scan } from '../src/monitor/scan/index.js';
import { simulate } from '../src/monitor/simulate/index.js';

const args = process.argv.slice(2);
const option = (name: string, fallback: string) => {
  const i = args.indexOf(name);
  if (i < 0) return fallback;
  const v = args[i + 1];
  args.splice(i, 2);
  return v;
};
const days = Number(option('--days', '21'));
const users = Number(option('--users', '500'));
const cache = option('--cache', path.join(os.tmpdir(), 'carewall-monitor-draws'));
const verbose = args.includes('--verbose');
const draws = args.filter((a) => /^\d+$/.test(a)).map(Number);

const totals = new Map<string, { incidents: number; found: number }>();
for (const draw of draws) {
  const out = path.join(cache, `d${draw}-u${users}-t${days}`);
  if (!fs.existsSync(path.join(out, 'truth.ndjson'))) {
    fs.rmSync(out, { recursive: true, force: true });
    await simulate({ seed: 9000 + draw, users, patients: users * 15, days, conventions: draw, out });
  }
  const truth: TruthIncident[] = fs
    .readFileSync(path.join(out, 'truth.ndjson'), 'utf8')
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
  const { alerts, summary } = await scan(out);
  const e = evaluate(alerts, truth);
  for (const [s, v] of Object.entries(e.byScenario)) {
    const t = totals.get(s) ?? { incidents: 0, found: 0 };
    t.incidents += v.incidents;
    t.found += v.found;
    totals.set(s, t);
  }
  const perK = (1000 * e.falseAlerts) / (users * days);
  const missed = e.missed.map((m) => `${m.scenario}${m.stealth === 'stealthy' ? '*' : ''}`).join(' ');
  process.stdout.write(
    `draw ${draw}: ${e.found}/${e.incidents} found, ${e.falseAlerts} false (${perK.toFixed(2)}/1000 user-days) ${JSON.stringify(e.falseByScenario)}; ${summary.eventsPerSecond} ev/s\n  missed: ${missed}\n`,
  );
  if (verbose)
    for (const m of e.missed) {
      const w = summary.watchList.filter((x) => x.user === m.user);
      process.stdout.write(
        `  missed ${m.scenario} ${m.user} ${m.patients.length}: ${w.map((x) => `${x.scenario} p=${x.p} ${x.evidence.at(-1)}`).join(' || ') || 'not on the watch list'}\n`,
      );
    }
  if (verbose) for (const a of e.falseList) process.stdout.write(`  false ${a.scenario} ${a.user} ${a.patients.length} ${a.evidence.join(' | ')}\n`);
}
process.stdout.write(
  SCENARIO_CODES.map((s) => {
    const t = totals.get(s) ?? { incidents: 0, found: 0 };
    return `${s} ${t.found}/${t.incidents}`;
  }).join(', ') + '\n',
);
