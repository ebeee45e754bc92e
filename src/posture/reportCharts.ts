/**
 * The board report's two charts (issue 27), drawn with PDFKit's own vector operations: rectangles,
 * lines and the standard Helvetica font. Nothing is fetched and no image is embedded, so the report
 * renders the same on a clinic's server without a network or a browser.
 *
 * Each function draws inside the box it is given and never moves past it: PDFKit adds a page when
 * text runs below the bottom margin, and the summary must stay on one page.
 */
import type PDFDocument from 'pdfkit';

type Doc = InstanceType<typeof PDFDocument>;

export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Colours chosen to stay apart when printed in greyscale (dark bar, light track, mid-grey grid). */
export const colours = { ink: '#1a1a1a', muted: '#5c5c5c', grid: '#bdbdbd', track: '#ececec', bar: '#1f5f99', line: '#1f5f99', point: '#0d3a63' };

/** A score 0–1 as a whole percentage; out-of-range or missing scores are clamped, never drawn past the axis. */
export function percent(score: number): number {
  if (!Number.isFinite(score)) return 0;
  return Math.round(Math.min(1, Math.max(0, score)) * 100);
}

/**
 * Horizontal bars, one per threat: the label on the left, a 0–100 % track with the score filled in,
 * and the figure on the right. Horizontal because the threats' names are long and a board reads them
 * as a list.
 */
export function drawBarChart(doc: Doc, box: Box, bars: Array<{ label: string; score: number }>): void {
  const labelWidth = Math.round(box.width * 0.38);
  const valueWidth = 40;
  const trackX = box.x + labelWidth + 8;
  const trackWidth = box.width - labelWidth - 8 - valueWidth;
  const rowHeight = bars.length > 0 ? Math.min(24, box.height / bars.length) : box.height;
  const barHeight = Math.max(6, rowHeight - 10);

  doc.save();
  if (bars.length === 0) {
    doc
      .font('Helvetica-Oblique')
      .fontSize(9)
      .fillColor(colours.muted)
      .text('No threat has been scored yet.', box.x, box.y, { width: box.width, lineBreak: false });
    doc.restore();
    return;
  }
  // The 0, 50 and 100 % guides, so that a bar's length can be read without the figure.
  doc.lineWidth(0.5).strokeColor(colours.grid);
  for (const fraction of [0, 0.5, 1]) {
    const gx = trackX + trackWidth * fraction;
    doc
      .moveTo(gx, box.y)
      .lineTo(gx, box.y + rowHeight * bars.length)
      .stroke();
  }
  bars.forEach((bar, index) => {
    const rowY = box.y + index * rowHeight;
    const barY = rowY + (rowHeight - barHeight) / 2;
    const value = percent(bar.score);
    doc
      .font('Helvetica')
      .fontSize(9)
      .fillColor(colours.ink)
      .text(bar.label, box.x, barY + barHeight / 2 - 5, { width: labelWidth, height: 11, ellipsis: true, lineBreak: false });
    doc.rect(trackX, barY, trackWidth, barHeight).fill(colours.track);
    if (value > 0) doc.rect(trackX, barY, (trackWidth * value) / 100, barHeight).fill(colours.bar);
    doc
      .font('Helvetica-Bold')
      .fontSize(9)
      .fillColor(colours.ink)
      .text(`${value} %`, trackX + trackWidth + 6, barY + barHeight / 2 - 5, { width: valueWidth - 6, lineBreak: false });
  });
  doc.restore();
}

export interface TrendPoint {
  /** ISO date-time of the measurement. */
  at: string;
  /** Share in place, 0–1. */
  share: number;
}

/**
 * A line of the in-place share over time, on a 0–100 % axis (never a zoomed one: a board should see
 * 40 % as 40 %, not as a steep climb). With fewer than two points there is no line to draw, and the
 * chart says so in words instead of drawing a single dot that looks like a trend.
 */
export function drawTrendChart(doc: Doc, box: Box, points: TrendPoint[]): void {
  const axisLabelWidth = 34;
  const plot = { x: box.x + axisLabelWidth, y: box.y + 4, width: box.width - axisLabelWidth - 8, height: box.height - 22 };
  doc.save();
  doc.lineWidth(0.5).strokeColor(colours.grid);
  for (const fraction of [0, 0.5, 1]) {
    const gy = plot.y + plot.height * (1 - fraction);
    doc
      .moveTo(plot.x, gy)
      .lineTo(plot.x + plot.width, gy)
      .stroke();
    doc
      .font('Helvetica')
      .fontSize(8)
      .fillColor(colours.muted)
      .text(`${fraction * 100} %`, box.x, gy - 4, { width: axisLabelWidth - 6, align: 'right', lineBreak: false });
  }

  const timed = points.map((p) => ({ t: Date.parse(p.at), share: p.share })).filter((p) => Number.isFinite(p.t));
  if (timed.length < 2) {
    const note =
      timed.length === 0
        ? 'No earlier measurements yet: the trend appears once the scorecard has been taken on two different days.'
        : 'Only one measurement so far: the trend appears once the scorecard has been taken on two different days.';
    doc
      .font('Helvetica-Oblique')
      .fontSize(9)
      .fillColor(colours.muted)
      .text(note, plot.x + 12, plot.y + plot.height / 2 - 10, { width: plot.width - 24, height: 24, align: 'center', ellipsis: true });
    doc.restore();
    return;
  }

  const first = timed[0].t;
  const last = timed[timed.length - 1].t;
  const span = Math.max(1, last - first);
  const xy = (p: { t: number; share: number }) => ({
    x: plot.x + (plot.width * (p.t - first)) / span,
    y: plot.y + plot.height * (1 - percent(p.share) / 100),
  });
  doc.lineWidth(1.5).strokeColor(colours.line);
  timed.forEach((p, index) => {
    const { x, y } = xy(p);
    if (index === 0) doc.moveTo(x, y);
    else doc.lineTo(x, y);
  });
  doc.stroke();
  // The last point marked and labelled: it is the figure the headline states.
  const end = xy(timed[timed.length - 1]);
  doc.circle(end.x, end.y, 2.5).fill(colours.point);

  const day = (t: number) => new Date(t).toISOString().slice(0, 10);
  doc.font('Helvetica').fontSize(8).fillColor(colours.muted);
  doc.text(day(first), plot.x, plot.y + plot.height + 5, { width: 80, lineBreak: false });
  doc.text(day(last), plot.x + plot.width - 80, plot.y + plot.height + 5, { width: 80, align: 'right', lineBreak: false });
  doc.restore();
}
