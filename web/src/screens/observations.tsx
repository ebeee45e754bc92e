/** A chart's observations: values as people write them, abnormal ones said in words, and a trend to pick. */
import type { Observation } from '@medplum/fhirtypes';
import { useState } from 'react';
import { fhirSearch } from '../api';
import { ErrorNote, Heads, useLoad, when } from '../ui';
import { abnormal, bloodPressure, label, unitOf, valueText } from './clinicalWords';
import { TrendChart, type Series } from './trend';

const BLOOD_PRESSURE = 'Blood pressure';

interface Trend {
  unit: string;
  series: Series[];
}

/** Every trend the observations allow: one per numeric code, and blood pressure with its two lines. */
export function trendsOf(all: Observation[]): Map<string, Trend> {
  const trends = new Map<string, Trend>();
  const dated = all.filter((o) => o.effectiveDateTime).sort((a, b) => Date.parse(a.effectiveDateTime!) - Date.parse(b.effectiveDateTime!));
  const bp = dated.map((o) => ({ t: Date.parse(o.effectiveDateTime!), bp: bloodPressure(o) })).filter((x) => x.bp !== null);
  if (bp.length > 0) {
    trends.set(BLOOD_PRESSURE, {
      unit: unitOf(bp[0].bp!.systolic) || 'mmHg',
      series: [
        { name: 'Systolic', points: bp.map((x) => ({ t: x.t, v: x.bp!.systolic.value! })) },
        { name: 'Diastolic', points: bp.map((x) => ({ t: x.t, v: x.bp!.diastolic.value! })) },
      ],
    });
  }
  for (const o of dated) {
    if (typeof o.valueQuantity?.value !== 'number') continue;
    const k = label(o.code);
    const trend = trends.get(k) ?? { unit: unitOf(o.valueQuantity), series: [{ name: k, points: [] }] };
    trend.series[0].points.push({ t: Date.parse(o.effectiveDateTime!), v: o.valueQuantity.value });
    trends.set(k, trend);
  }
  return trends;
}

export function Observations({ patient }: { patient: string }) {
  const { data, error } = useLoad(() => fhirSearch('Observation', `/fhir/Patient/${patient}/Observation?_count=200`), [patient]);
  const [chosen, setChosen] = useState<string | null>(null);
  const all = data?.resources ?? [];
  const trends = trendsOf(all);
  const names = [...trends.keys()];
  const current = chosen && trends.has(chosen) ? chosen : (names[0] ?? null);
  const trend = current ? trends.get(current) : undefined;
  return (
    <section className="card wide" aria-labelledby="h-obs">
      <h2 id="h-obs">Observations</h2>
      <ErrorNote error={error} />
      {data && all.length === 0 ? <p className="muted">No observations recorded.</p> : null}
      {names.length > 0 ? (
        <label>
          Trend of
          <select value={current ?? ''} onChange={(e) => setChosen(e.target.value)}>
            {names.map((k) => (
              <option key={k}>{k}</option>
            ))}
          </select>
        </label>
      ) : null}
      {trend && current ? <TrendChart title={current} unit={trend.unit} series={trend.series} /> : null}
      {all.length > 0 ? (
        <table>
          <Heads cols={['Observation', 'Value', 'Abnormal', 'When']} />
          <tbody>
            {all.slice(0, 50).map((o) => {
              const flags = abnormal(o);
              return (
                <tr key={o.id} className={flags.length ? 'abnormal' : undefined}>
                  {/* A panel's long official name ("Blood pressure panel with all children optional") is not what people say. */}
                  <td>{bloodPressure(o) ? BLOOD_PRESSURE : label(o.code)}</td>
                  <td>{valueText(o)}</td>
                  <td>{flags.length ? <strong className="flag">{flags.map((f) => f[0].toUpperCase() + f.slice(1)).join(', ')}</strong> : '—'}</td>
                  <td>{when(o.effectiveDateTime)}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      ) : null}
    </section>
  );
}
