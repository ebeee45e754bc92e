/**
 * A line of values over time, drawn as SVG. Written here rather than taken from a charting
 * library: one series with axes labels is some forty lines, and a library would add far more to
 * the console than the chart itself.
 */
export function TrendChart({ title, points }: { title: string; points: Array<{ t: number; v: number; unit: string }> }) {
  const W = 640;
  const H = 180;
  const pad = 36;
  const t0 = points[0].t;
  const t1 = points[points.length - 1].t || t0 + 1;
  const vs = points.map((p) => p.v);
  const lo = Math.min(...vs);
  const hi = Math.max(...vs);
  const span = hi - lo || 1;
  const x = (t: number) => pad + ((t - t0) / (t1 - t0 || 1)) * (W - 2 * pad);
  const y = (v: number) => H - pad - ((v - lo) / span) * (H - 2 * pad);
  const line = points.map((p, i) => `${i === 0 ? 'M' : 'L'}${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`).join(' ');
  const unit = points[0].unit;
  return (
    <figure className="trend">
      <svg
        viewBox={`0 0 ${W} ${H}`}
        role="img"
        aria-label={`${title}: ${points.length} values from ${lo} to ${hi} ${unit}, latest ${points[points.length - 1].v} ${unit}`}
      >
        <line x1={pad} y1={H - pad} x2={W - pad} y2={H - pad} className="axis" />
        <line x1={pad} y1={pad} x2={pad} y2={H - pad} className="axis" />
        <text x={4} y={y(hi) + 4} className="tick">
          {hi}
        </text>
        <text x={4} y={y(lo) + 4} className="tick">
          {lo}
        </text>
        <path d={line} className="series" />
        {points.map((p, i) => (
          <circle key={i} cx={x(p.t)} cy={y(p.v)} r={3} className="dot" />
        ))}
      </svg>
      <figcaption>
        {title} ({unit}), {new Date(t0).toLocaleDateString()} – {new Date(t1).toLocaleDateString()}
      </figcaption>
    </figure>
  );
}
