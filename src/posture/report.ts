/**
 * The posture scorecard for a clinic's board (issue 27): a printable PDF and a machine-readable
 * export, both pure functions of the scorecard and its history (docs/posture.md, "Board report").
 *
 * The PDF is written with PDFKit and its built-in standard fonts (Helvetica), so nothing is fetched
 * and no browser is needed. Only what the scorecard, its history and the clinic's name hold is
 * printed: a scorecard has no patient data, and the report adds none.
 */
import type PDFKit from 'pdfkit';
import { colours, drawBarChart, drawTrendChart, percent } from './reportCharts.js';
import type { ItemStatus, ScoredItem, Scorecard } from './types.js';

type Doc = InstanceType<typeof PDFKit>;

/** One earlier taking of the scorecard: when, how many practices were in place, each threat's score. */
export interface ScorecardHistoryPoint {
  at: string;
  inPlace: number;
  total: number;
  threats: Record<string, number>;
}

/** Statuses in the words a board reads; the codes stay in the JSON export. */
export const statusWords: Record<ItemStatus, string> = {
  compliant: 'In place',
  partial: 'Partly in place',
  missing: 'Not in place',
  'not-applicable': 'Does not apply',
};

/** Missing first, then partial: the order in which next steps are worth a board's attention. */
const urgency: Record<ItemStatus, number> = { missing: 0, partial: 1, compliant: 2, 'not-applicable': 3 };

const page = { size: 'LETTER', margin: 54 } as const;
const footerHeight = 24;

/**
 * The standard PDF fonts carry WinAnsi (Latin-1 and a few typographic marks) only. Anything else
 * would print as a wrong glyph, so it is replaced by '?' where the reader can see something was there.
 */
const winAnsiExtras = new Set('€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ');
function printable(text: string): string {
  let out = '';
  for (const ch of text.normalize('NFC')) {
    const code = ch.codePointAt(0) ?? 0;
    if (ch === '\n' || ch === '\t') out += ' ';
    else if ((code >= 0x20 && code < 0x7f) || (code >= 0xa0 && code <= 0xff) || winAnsiExtras.has(ch)) out += ch;
    else if (code >= 0x7f) out += '?';
  }
  return out;
}

/** 'N of M practices in place', the headline in words. */
export function headline(card: Scorecard): string {
  const { inPlace, total } = card.summary;
  return `${inPlace} of ${total} practice${total === 1 ? '' : 's'} in place`;
}

export interface NextStep {
  practiceId: string;
  practiceTitle: string;
  item: ScoredItem;
}

/** The next steps a board sees first: items that have one, missing before partial, then in the scorecard's order. */
export function topNextSteps(card: Scorecard, limit = 5): NextStep[] {
  const steps: Array<NextStep & { order: number }> = [];
  for (const practice of card.practices) {
    for (const item of practice.items) {
      if (item.next && item.next.trim() !== '') steps.push({ practiceId: practice.id, practiceTitle: practice.title, item, order: steps.length });
    }
  }
  steps.sort((a, b) => urgency[a.item.status] - urgency[b.item.status] || a.order - b.order);
  return steps.slice(0, limit).map(({ order: _order, ...step }) => step);
}

const day = (iso: string) => (Number.isFinite(Date.parse(iso)) ? new Date(iso).toISOString().slice(0, 10) : iso);

function heading(doc: Doc, text: string, size: number): void {
  doc.font('Helvetica-Bold').fontSize(size).fillColor(colours.ink).text(printable(text));
}

function summaryPage(doc: Doc, card: Scorecard, history: ScorecardHistoryPoint[], clinic: { name: string }): void {
  const left = page.margin;
  const width = doc.page.width - 2 * page.margin;
  doc
    .font('Helvetica')
    .fontSize(10)
    .fillColor(colours.muted)
    .text(printable(`${clinic.name}: security posture for the board, ${day(card.generatedAt)}`), left, page.margin, { width });
  doc.moveDown(0.6);
  heading(doc, headline(card), 22);
  doc.moveDown(0.2);
  // Bounded: a long summary is cut with an ellipsis rather than pushing the charts onto a second page.
  doc.font('Helvetica').fontSize(10.5).fillColor(colours.ink).text(printable(card.summary.text), { width, height: 44, ellipsis: true });

  doc.y = Math.max(doc.y, 150) + 10;
  heading(doc, 'Threats: how well each is covered', 12);
  doc.moveDown(0.3);
  const threatsBox = { x: left, y: doc.y, width, height: 24 * Math.max(1, card.threats.length) };
  drawBarChart(
    doc,
    threatsBox,
    card.threats.map((t) => ({ label: printable(t.title), score: t.score })),
  );

  doc.y = threatsBox.y + threatsBox.height + 14;
  doc.x = left;
  heading(doc, 'Trend: share of practices in place', 12);
  doc.moveDown(0.3);
  const trendBox = { x: left, y: doc.y, width, height: 130 };
  const points = [...history]
    .filter((h) => h.total > 0)
    .sort((a, b) => Date.parse(a.at) - Date.parse(b.at))
    .map((h) => ({ at: h.at, share: h.inPlace / h.total }));
  drawTrendChart(doc, trendBox, points);

  doc.y = trendBox.y + trendBox.height + 14;
  doc.x = left;
  heading(doc, 'Next steps', 12);
  doc.moveDown(0.3);
  const steps = topNextSteps(card);
  if (steps.length === 0) doc.font('Helvetica').fontSize(10).fillColor(colours.ink).text('No next steps are open.', { width });
  const bottom = doc.page.height - page.margin - footerHeight;
  steps.forEach((step, index) => {
    const room = bottom - doc.y;
    if (room < 14) return;
    doc
      .font('Helvetica-Bold')
      .fontSize(9.5)
      .fillColor(colours.ink)
      .text(printable(`${index + 1}. ${statusWords[step.item.status]}: ${step.item.title} (${step.practiceTitle})`), left, doc.y, {
        width,
        height: Math.min(room, 24),
        ellipsis: true,
      });
    doc
      .font('Helvetica')
      .fontSize(9.5)
      .text(printable(step.item.next ?? ''), left + 14, doc.y, { width: width - 14, height: Math.max(0, Math.min(bottom - doc.y, 36)), ellipsis: true });
    doc.moveDown(0.35);
  });
}

/** The lines of one item on a practice page, as practicePage writes them, without writing them. */
function itemLines(item: ScoredItem): Array<{ font: string; size: number; text: string; indent: number }> {
  return [
    { font: 'Helvetica-Bold', size: 10.5, text: printable(`${statusWords[item.status]}: ${item.title}`), indent: 0 },
    { font: 'Helvetica', size: 9, text: item.source === 'measured' ? 'Measured by Carewall' : 'Attested by staff', indent: 0 },
    ...(item.evidence.length === 0
      ? [{ font: 'Helvetica', size: 9, text: '- No evidence recorded yet.', indent: 12 }]
      : item.evidence.map((evidence) => ({ font: 'Helvetica', size: 9, text: printable(`- ${evidence.text} (${day(evidence.at)})`), indent: 12 }))),
    ...(item.next ? [{ font: 'Helvetica-Oblique', size: 9, text: printable(`Next step: ${item.next}`), indent: 12 }] : []),
  ];
}

function itemHeight(doc: Doc, item: ScoredItem, width: number): number {
  const lines = itemLines(item).reduce(
    (sum, line) =>
      sum +
      doc
        .font(line.font)
        .fontSize(line.size)
        .heightOfString(line.text, { width: width - line.indent }),
    0,
  );
  return lines + doc.font('Helvetica').fontSize(9).currentLineHeight(true) * 0.6;
}

function practicePage(doc: Doc, practice: Scorecard['practices'][number]): void {
  const left = page.margin;
  const width = doc.page.width - 2 * page.margin;
  doc.x = left;
  doc.y = page.margin;
  heading(doc, `${practice.title}`, 16);
  const counts = practice.items.reduce<Record<ItemStatus, number>>((acc, item) => ({ ...acc, [item.status]: acc[item.status] + 1 }), {
    compliant: 0,
    partial: 0,
    missing: 0,
    'not-applicable': 0,
  });
  doc
    .font('Helvetica')
    .fontSize(10)
    .fillColor(colours.muted)
    .text(
      `Score ${percent(practice.score)} %. ${counts.compliant} in place, ${counts.partial} partly, ${counts.missing} not in place, ${counts['not-applicable']} not applying.`,
      { width },
    );
  doc.moveDown(0.8);
  const bottom = doc.page.height - page.margin;
  for (const item of practice.items) {
    // An item is kept whole: one that would not fit goes to a further page that says whose it is.
    if (doc.y + itemHeight(doc, item, width) > bottom && doc.y > page.margin + 60) {
      doc.addPage();
      doc.x = left;
      heading(doc, `${practice.title} (continued)`, 12);
      doc.moveDown(0.6);
    }
    for (const line of itemLines(item)) {
      doc
        .font(line.font)
        .fontSize(line.size)
        .fillColor(line.font === 'Helvetica' && line.indent === 0 ? colours.muted : colours.ink)
        .text(line.text, left + line.indent, doc.y, { width: width - line.indent });
    }
    doc.moveDown(0.6);
  }
}

/** Footers on every page once all are written: the clinic, the date and 'page n of m'. */
function footers(doc: Doc, card: Scorecard, clinic: { name: string }): void {
  const range = doc.bufferedPageRange();
  for (let i = range.start; i < range.start + range.count; i++) {
    doc.switchToPage(i);
    // Below the bottom margin PDFKit would start a new page for the footer; the margin is lifted while it is written.
    const margin = doc.page.margins.bottom;
    doc.page.margins.bottom = 0;
    doc
      .font('Helvetica')
      .fontSize(8)
      .fillColor(colours.muted)
      .text(
        printable(`${clinic.name}, posture as of ${day(card.generatedAt)}. Page ${i + 1} of ${range.count}.`),
        page.margin,
        doc.page.height - page.margin + 8,
        {
          width: doc.page.width - 2 * page.margin,
          align: 'center',
          lineBreak: false,
        },
      );
    doc.page.margins.bottom = margin;
  }
}

/**
 * The board report: page 1 the summary (headline, threats chart, trend chart, top five next steps),
 * then a page per practice with its items, their status in words, evidence and next steps (a practice
 * with many items may run onto a further page).
 */
export async function renderBoardReport(card: Scorecard, history: ScorecardHistoryPoint[], clinic: { name: string }): Promise<Buffer> {
  // Loaded on first use: pdfkit takes about 190 ms to load, which every process (the CLI's every
  // command, each test) would otherwise pay at start for a report few ever print.
  const { default: PDFDocument } = await import('pdfkit');
  return new Promise((resolve, reject) => {
    const doc = new PDFDocument({
      size: page.size,
      margin: page.margin,
      bufferPages: true,
      // Dated by the scorecard, not the clock: the same scorecard gives the same report's metadata.
      info: { Title: printable(`${clinic.name}: security posture`), Producer: 'Carewall', Creator: 'Carewall', CreationDate: new Date(card.generatedAt) },
    });
    const chunks: Buffer[] = [];
    doc.on('data', (chunk: Buffer) => chunks.push(chunk));
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
    try {
      summaryPage(doc, card, history, clinic);
      for (const practice of card.practices) {
        doc.addPage();
        practicePage(doc, practice);
      }
      footers(doc, card, clinic);
      doc.end();
    } catch (error) {
      reject(error);
    }
  });
}

export const scorecardExportFormat = 'carewall.posture-scorecard';
export const scorecardExportVersion = 1;

export interface ScorecardExport {
  format: typeof scorecardExportFormat;
  version: typeof scorecardExportVersion;
  generatedAt: string;
  scorecard: Scorecard;
  history: ScorecardHistoryPoint[];
}

/**
 * The machine-readable export: the scorecard and its history (oldest first) under a format name and
 * version, copied so that later changes to the inputs do not reach an export already handed out.
 */
export function scorecardJson(card: Scorecard, history: ScorecardHistoryPoint[]): ScorecardExport {
  return {
    format: scorecardExportFormat,
    version: scorecardExportVersion,
    generatedAt: card.generatedAt,
    scorecard: structuredClone(card),
    history: structuredClone(history).sort((a, b) => Date.parse(a.at) - Date.parse(b.at)),
  };
}
