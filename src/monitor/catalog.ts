/**
 * The scenario catalog: the codes an alert's `scenario` takes, and the simulator's `truth.ndjson`
 * too. docs/monitor.md describes each; the codes are part of the alert format and stay stable.
 */
export const SCENARIOS = {
  family: "family or household: the patient shares the user's phone, address, or family name and street",
  coworker: 'co-worker: the patient is a member of staff',
  neighbour: "neighbour: the patient lives on the user's street",
  vip: 'VIP or celebrity: a labelled patient, or a chart many unrelated users open at once',
  self: 'self-lookup: the user opens their own chart',
  curiosity: 'curiosity: no care relationship and no clinical action, nothing else to explain it',
  department: 'department mismatch: a patient under care in another department, nothing linking the user',
  volume: "volume outlier: far more distinct patients in a day than the user's own history and peer group",
  harvesting: 'harvesting before leaving: unexplained accesses pile up in the weeks before employment ends',
  terminated: 'terminated or inactive account: accesses after the employment end date',
  credentials:
    "shared or stolen credentials: one account on two addresses at once, charts nothing explains from an address the user does not work from, or use outside the user's shifts",
  export: 'mass export or print: many patients exported or printed against peers and own history',
  enumeration: 'sequential enumeration: consecutive identifiers or an alphabetical sweep, many searches, very short views',
  'break-glass': 'break-the-glass abuse: emergency access used more than peers do, with no clinical action after',
  repeat: 'repeat offender: a user with alerts in two or more separate incidents',
} as const;

export type Scenario = keyof typeof SCENARIOS;
export const SCENARIO_CODES = Object.keys(SCENARIOS) as Scenario[];

export interface Alert {
  id: string;
  user: string;
  patients: string[];
  scenario: Scenario;
  score: number;
  firstAccess: string;
  lastAccess: string;
  evidence: string[];
}

/** One injected incident in the simulator's truth.ndjson. */
export interface TruthIncident {
  id: string;
  user: string;
  patients: string[];
  scenario: Scenario;
  window: { start: string; end: string };
  /** How hard the simulator made it: 'plain' or 'stealthy'; for reports, not for matching. */
  stealth?: string;
}
