/**
 * Lines of values over time, drawn as SVG. Written here rather than taken from a charting
 * library: a few series with axes labels is some sixty lines, and a library would add far more to
 * the console than the chart itself. Two series (blood pressure: systolic and diastolic) are told
 * apart by line style and marker shape as well as colour, and named in a key.
 */
export interface Series {
  name: string;
  points: Array<{ t: number; v: number }>;
}

export function TrendChart({ title, unit, series }: { title: string; unit: string; series: Series[] }) {
  const W = 640;
  const H = 180;
  const pad = 36;
  const all = series.flatMap((s) => s.points);
  const ts = all.map((p) => p.t);
  const t0 = Math.min(...ts);
  const t1 = Math.max(...ts);
  const vs = all.map((p) => p.v);
  const lo = Math.min(...vs);
  const hi = Math.max(...vs);
  const span = hi - lo || 1;
  const x = (t: number) => pad + ((t - t0) / (t1 - t0 || 1)) * (W - 2 * pad);
  const y = (v: number) => H - pad - ((v - lo) / span) * (H - 2 * pad);
  const described = series
    .map((s) => {
      const last = s.points[s.points.length - 1];
      return `${s.name}: ${s.points.length} values, latest ${last ? last.v : '—'} ${unit}`;
    })
    .join('; ');
  return (
    <figure className="trend">
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={`${title}: from ${lo} to ${hi} ${unit}. ${described}`}>
        <line x1={pad} y1={H - pad} x2={W - pad} y2={H - pad} className="axis" />
        <line x1={pad} y1={pad} x2={pad} y2={H - pad} className="axis" />
        <text x={4} y={y(hi) + 4} className="tick">
          {hi}
        </text>
        <text x={4} y={y(lo) + 4} className="tick">
          {lo}
        </text>
        {series.map((s, k) => (
          <g key={s.name} className={k === 0 ? 'first' : 'second'}>
            <path d={s.points.map((p, i) => `${i === 0 ? 'M' : 'L'}${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`).join(' ')} className="series" />
            {s.points.map((p, i) =>
              k === 0 ? (
                <circle key={i} cx={x(p.t)} cy={y(p.v)} r={3} className="dot" />
              ) : (
                <rect key={i} x={x(p.t) - 3} y={y(p.v) - 3} width={6} height={6} className="dot" />
              ),
            )}
          </g>
        ))}
      </svg>
      <figcaption>
        {series.length > 1
          ? series.map((s, k) => (
              <span key={s.name} className={`key ${k === 0 ? 'first' : 'second'}`}>
                {k === 0 ? '● ' : '■ '}
                {s.name}
              </span>
            ))
          : null}
        {title} ({unit}), {new Date(t0).toLocaleDateString()} – {new Date(t1).toLocaleDateString()}
      </figcaption>
    </figure>
  );
}
