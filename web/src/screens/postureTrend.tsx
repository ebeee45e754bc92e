/**
 * The posture trend: practices in place at each snapshot, drawn as inline SVG on a time axis (so a
 * gap between snapshots shows as one) with a description for screen readers, followed by the same
 * figures as a table, which is the accessible form of the chart.
 */
import type { PostureHistory } from '../../../src/api/index.js';
import { day, when } from '../ui';

const W = 640;
const H = 220;
const PAD = { left: 56, right: 24, top: 16, bottom: 40 };

export function PostureTrend({ history }: { history: PostureHistory }) {
  if (history.length === 0) return <p>No snapshot yet: the trend starts with the first measurement.</p>;
  const times = history.map((h) => Date.parse(h.at));
  const [t0, t1] = [Math.min(...times), Math.max(...times)];
  const top = Math.max(1, ...history.map((h) => h.total));
  const x = (t: number) => PAD.left + (t1 === t0 ? (W - PAD.left - PAD.right) / 2 : ((t - t0) / (t1 - t0)) * (W - PAD.left - PAD.right));
  const y = (n: number) => H - PAD.bottom - (n / top) * (H - PAD.top - PAD.bottom);
  const path = history.map((h, i) => `${i === 0 ? 'M' : 'L'}${x(times[i]).toFixed(1)},${y(h.inPlace).toFixed(1)}`).join(' ');
  const first = history[0];
  const last = history[history.length - 1];
  const summary =
    history.length === 1
      ? `One snapshot, ${day(first.at)}: ${first.inPlace} of ${first.total} practices in place.`
      : `Over ${history.length} snapshots from ${day(first.at)} to ${day(last.at)}, practices in place went from ${first.inPlace} to ${last.inPlace} of ${last.total}.`;
  // The first and last dates under the axis; more would overlap on a narrow screen.
  const labels = t1 === t0 ? [first] : [first, last];
  return (
    <figure className="trend posture-trend">
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-labelledby="posture-trend-title posture-trend-desc">
        <title id="posture-trend-title">Practices in place over time</title>
        <desc id="posture-trend-desc">{summary}</desc>
        {[0, Math.round(top / 2), top].map((v) => (
          <g key={v}>
            <line x1={PAD.left} x2={W - PAD.right} y1={y(v)} y2={y(v)} className="grid-line" />
            <text x={PAD.left - 6} y={y(v) + 4} className="tick" textAnchor="end">
              {v}
            </text>
          </g>
        ))}
        <path d={path} className="series" />
        {history.map((h, i) => (
          <circle key={h.at} cx={x(times[i])} cy={y(h.inPlace)} r={4} className="dot" />
        ))}
        {labels.map((h, i) => (
          // The first date starts at its point and the last ends at its own, so neither runs off the drawing.
          <text
            key={h.at}
            x={x(Date.parse(h.at))}
            y={H - PAD.bottom + 18}
            className="tick"
            textAnchor={labels.length === 1 ? 'middle' : i === 0 ? 'start' : 'end'}
          >
            {day(h.at)}
          </text>
        ))}
      </svg>
      <figcaption>
        <p>{summary}</p>
      </figcaption>
      <table>
        <caption>Practices in place, snapshot by snapshot</caption>
        <thead>
          <tr>
            <th scope="col">Measured</th>
            <th scope="col">Practices in place</th>
          </tr>
        </thead>
        <tbody>
          {history.map((h) => (
            <tr key={h.at}>
              <th scope="row">{when(h.at)}</th>
              <td>
                {h.inPlace} of {h.total}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </figure>
  );
}
