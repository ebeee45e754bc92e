/**
 * Scoring alerts against a simulator's truth. An incident is found when an alert names the same
 * user and the same scenario and either shares a patient with it or overlaps its time window.
 * An alert that finds no incident that way is a false alert.
 */
import { SCENARIO_CODES, type Alert, type Scenario, type TruthIncident } from './catalog.js';

export interface Evaluation {
  incidents: number;
  found: number;
  byScenario: Record<string, { incidents: number; found: number; recall: number }>;
  alerts: number;
  falseAlerts: number;
  falseByScenario: Partial<Record<Scenario, number>>;
  missed: TruthIncident[];
  falseList: Alert[];
}

export function matches(alert: Alert, incident: TruthIncident): boolean {
  if (alert.user !== incident.user || alert.scenario !== incident.scenario) return false;
  if (alert.patients.some((p) => incident.patients.includes(p))) return true;
  return alert.firstAccess <= incident.window.end && alert.lastAccess >= incident.window.start;
}

export function evaluate(alerts: Alert[], truth: TruthIncident[]): Evaluation {
  const byUser = new Map<string, Alert[]>();
  for (const a of alerts) byUser.set(a.user, [...(byUser.get(a.user) ?? []), a]);
  const byScenario: Evaluation['byScenario'] = {};
  for (const s of SCENARIO_CODES) byScenario[s] = { incidents: 0, found: 0, recall: 1 };
  const used = new Set<Alert>();
  const missed: TruthIncident[] = [];
  let found = 0;
  for (const t of truth) {
    const hit = (byUser.get(t.user) ?? []).filter((a) => matches(a, t));
    byScenario[t.scenario].incidents++;
    if (hit.length > 0) {
      byScenario[t.scenario].found++;
      found++;
      for (const a of hit) used.add(a);
    } else missed.push(t);
  }
  for (const s of Object.values(byScenario)) s.recall = s.incidents > 0 ? s.found / s.incidents : 1;
  const falseList = alerts.filter((a) => !used.has(a));
  const falseByScenario: Partial<Record<Scenario, number>> = {};
  for (const a of falseList) falseByScenario[a.scenario] = (falseByScenario[a.scenario] ?? 0) + 1;
  return { incidents: truth.length, found, byScenario, alerts: alerts.length, falseAlerts: falseList.length, falseByScenario, missed, falseList };
}
