/**
 * The awareness trend: for each campaign in sending order, the share who clicked or typed
 * something and the share who reported it. Drawn as inline SVG (two lines on a 0–100% scale) with a
 * description for screen readers, and followed by the same figures as a table, which is the
 * accessible form of the chart and the one to copy from.
 */
import type { AwarenessTrend } from '../../../src/api/index.js';
import { day } from '../ui';
import { pct } from './awarenessWords';

const W = 640;
const H = 220;
const PAD = { left: 80, right: 80, top: 16, bottom: 40 };

export function TrendOverCampaigns({ trend }: { trend: AwarenessTrend }) {
  if (trend.length === 0) return <p>No campaign has sent anything yet: the trend starts with the first one.</p>;
  const x = (i: number) => PAD.left + (trend.length === 1 ? (W - PAD.left - PAD.right) / 2 : (i / (trend.length - 1)) * (W - PAD.left - PAD.right));
  const y = (share: number) => H - PAD.bottom - share * (H - PAD.top - PAD.bottom);
  const line = (f: (t: AwarenessTrend[number]) => number) => trend.map((t, i) => `${i === 0 ? 'M' : 'L'}${x(i).toFixed(1)},${y(f(t)).toFixed(1)}`).join(' ');
  const first = trend[0];
  const last = trend[trend.length - 1];
  const summary =
    `Over ${trend.length} campaign${trend.length === 1 ? '' : 's'}, the share who clicked or typed something went from ${pct(first.phishProne)} to ${pct(last.phishProne)}, ` +
    `and the share who reported the message from ${pct(first.reportRate)} to ${pct(last.reportRate)}.`;
  return (
    <figure className="trend awareness-trend">
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-labelledby="trend-title trend-desc">
        <title id="trend-title">Awareness over the campaigns</title>
        <desc id="trend-desc">{summary}</desc>
        {[0, 0.5, 1].map((v) => (
          <g key={v}>
            <line x1={PAD.left} x2={W - PAD.right} y1={y(v)} y2={y(v)} className="grid-line" />
            <text x={PAD.left - 6} y={y(v) + 4} className="tick" textAnchor="end">
              {pct(v)}
            </text>
          </g>
        ))}
        <path d={line((t) => t.phishProne)} className="series prone" />
        <path d={line((t) => t.reportRate)} className="series reported" />
        {trend.map((t, i) => (
          <g key={t.campaign}>
            <circle cx={x(i)} cy={y(t.phishProne)} r={4} className="dot prone" />
            <rect x={x(i) - 4} y={y(t.reportRate) - 4} width={8} height={8} className="dot reported" />
            <text x={x(i)} y={H - PAD.bottom + 18} className="tick" textAnchor="middle">
              {t.name.length > 18 ? `${t.name.slice(0, 17)}…` : t.name}
            </text>
          </g>
        ))}
      </svg>
      <figcaption>
        <span className="key prone">● clicked or typed something</span> <span className="key reported">■ reported it</span>
        <p>{summary}</p>
      </figcaption>
      <table>
        <caption>The trend as a table</caption>
        <thead>
          <tr>
            <th scope="col">Campaign</th>
            <th scope="col">First sent</th>
            <th scope="col">Clicked or typed something</th>
            <th scope="col">Reported it</th>
            <th scope="col">Passed the lesson</th>
          </tr>
        </thead>
        <tbody>
          {trend.map((t) => (
            <tr key={t.campaign}>
              <th scope="row">{t.name}</th>
              <td>{day(t.sentFrom)}</td>
              <td>{pct(t.phishProne)}</td>
              <td>{pct(t.reportRate)}</td>
              <td>{pct(t.trainedShare)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </figure>
  );
}
