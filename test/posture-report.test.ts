/**
 * The posture board report (issue 27): the PDF renders, its first page as an image carries the
 * headline in readable text and both charts, the practice pages say each item's status in words,
 * and the JSON export round-trips.
 *
 * How the image is checked: page 1 is rasterised by poppler's pdftoppm and read back twice.
 * - Text: Tesseract OCRs the PNG. OCR (not pdftotext) because the question is whether the text is
 *   visible on the rendered page, not merely present in the PDF's content stream; at 150 dpi and one
 *   thread it takes well under two seconds and the headline is large, clean, black-on-white type.
 * - Charts: the same page as a PPM (trivial to parse without a PNG decoder dependency) is scanned for
 *   the bars' blue: there must be five bands, top to bottom, whose lengths stand in the threats'
 *   proportions, and blue further down for the trend line. A blank or mis-scaled chart fails.
 * pdftotext is used only for the later pages and the wording checks, where the image adds nothing.
 *
 * The tools are Debian packages (poppler-utils, tesseract-ocr), installed by .ci/run. When one is
 * missing the test fails saying which package to install: it never skips.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { renderBoardReport, scorecardJson, statusWords, type ScorecardHistoryPoint } from '../src/posture/report.js';
import type { Scorecard } from '../src/posture/index.js';
import { fixtureHistory, fixtureScorecard, practiceTitles } from './helpers/postureReportFixture.js';

const clinic = { name: 'Riverside Family Practice' };
const tools: Array<[string, string[], string]> = [
  ['pdftoppm', ['-v'], 'poppler-utils'],
  ['pdftotext', ['-v'], 'poppler-utils'],
  ['pdfinfo', ['-v'], 'poppler-utils'],
  ['tesseract', ['--version'], 'tesseract-ocr'],
];

let dir = '';
let toolsChecked = false;
/** Fails the calling test (rather than cancelling the file from a hook) with the Debian package to install. */
function requireTools(): void {
  if (toolsChecked) return;
  const missing = tools.filter(([cmd, args]) => spawnSync(cmd, args).error).map(([cmd, , pkg]) => `${cmd} (Debian package ${pkg})`);
  assert.deepEqual(missing, [], `the board report's test needs ${missing.join(', ')}: apt-get install poppler-utils tesseract-ocr (.ci/run does)`);
  const langs = spawnSync('tesseract', ['--list-langs'], { encoding: 'utf8' }).stdout;
  assert.match(langs, /^eng$/m, 'Tesseract has no English data: apt-get install tesseract-ocr-eng (.ci/run does)');
  toolsChecked = true;
}
before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'carewall-report-'));
});
after(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

let serial = 0;
async function render(card: Scorecard, history: ScorecardHistoryPoint[]): Promise<{ pdf: Buffer; file: string }> {
  requireTools();
  const pdf = await renderBoardReport(card, history, clinic);
  const file = path.join(dir, `report-${serial++}.pdf`);
  fs.writeFileSync(file, pdf);
  return { pdf, file };
}

const pages = (file: string) => Number(/^Pages:\s+(\d+)/m.exec(execFileSync('pdfinfo', [file], { encoding: 'utf8' }))?.[1]);
/**
 * Every page's text, whitespace runs folded so that a wrapped line still matches; one pdftotext run
 * for the whole file (pages end with a form feed), cached, since the checks read many pages.
 */
const texts = new Map<string, string[]>();
function pageText(file: string, n: number): string {
  let all = texts.get(file);
  if (!all) {
    all = execFileSync('pdftotext', [file, '-'], { encoding: 'utf8' })
      .split('\f')
      .map((t) => t.replace(/\s+/g, ' ').trim());
    texts.set(file, all);
  }
  return all[n - 1] ?? '';
}

/** Reads a binary PPM (P6) as written by pdftoppm: width, height and RGB bytes. */
function readPpm(file: string): { width: number; height: number; rgb: Buffer } {
  const data = fs.readFileSync(file);
  const header = /^P6\s+(\d+)\s+(\d+)\s+(\d+)\s/.exec(data.subarray(0, 64).toString('latin1'));
  assert.ok(header, 'pdftoppm wrote a binary PPM');
  return { width: Number(header[1]), height: Number(header[2]), rgb: data.subarray(header[0].length) };
}

describe('board report', () => {
  test('page 1 as an image: the headline is readable (OCR) and both charts are drawn to scale', async () => {
    const card = fixtureScorecard();
    const { pdf, file } = await render(card, fixtureHistory());
    assert.equal(pdf.subarray(0, 5).toString('latin1'), '%PDF-');
    assert.match(pdf.subarray(-8).toString('latin1'), /%%EOF\s*$/);
    assert.equal(pages(file), 1 + 10, 'a summary page and one page per practice');
    // A pure function of its inputs: dated by the scorecard, not the clock, so the same input gives the same bytes.
    assert.match(execFileSync('pdfinfo', ['-isodates', file], { encoding: 'utf8' }), /^CreationDate:\s+2026-12-01T09:00:00/m);
    assert.ok(pdf.equals(await renderBoardReport(card, fixtureHistory(), clinic)), 'a second rendering is byte for byte the same');

    const png = path.join(dir, 'page1');
    execFileSync('pdftoppm', ['-png', '-r', '150', '-f', '1', '-l', '1', '-singlefile', file, png]);
    assert.equal(fs.readFileSync(`${png}.png`).subarray(1, 4).toString('latin1'), 'PNG');
    // One thread: on two shared cores Tesseract's OpenMP threads cost more than they gain.
    const ocr = execFileSync('tesseract', [`${png}.png`, '-', '--psm', '3'], { encoding: 'utf8', env: { ...process.env, OMP_THREAD_LIMIT: '1' } }).replace(
      /\s+/g,
      ' ',
    );
    assert.match(ocr, /5 of 10 practices in place/, `OCR of page 1: ${ocr}`);
    assert.match(ocr, /Riverside Family Practice/);
    assert.match(ocr, /Threats: how well each is covered/);
    assert.match(ocr, /Trend: share of practices in place/);
    assert.match(ocr, /Next steps/);
    assert.match(ocr, /Local administrator rights removed/, 'the first next step (a missing item) is on the page');

    const ppm = path.join(dir, 'page1-rgb');
    execFileSync('pdftoppm', ['-r', '100', '-f', '1', '-l', '1', '-singlefile', file, ppm]);
    const { width, height, rgb } = readPpm(`${ppm}.ppm`);
    // The bars' and the trend line's blue (#1f5f99): clearly bluer than it is red, unlike the text's greys.
    const blue = (x: number, y: number) => {
      const i = 3 * (y * width + x);
      return rgb[i + 2] - rgb[i] > 60;
    };
    const rows = Array.from({ length: height }, (_, y) => {
      let run = 0;
      let longest = 0;
      for (let x = 0; x < width; x++) {
        run = blue(x, y) ? run + 1 : 0;
        longest = Math.max(longest, run);
      }
      return longest;
    });
    // Bands of at least 8 consecutive rows with a long blue run are bars; the 1.5 pt trend line is 2–3 rows thick.
    const bands: Array<{ top: number; rows: number; length: number }> = [];
    rows.forEach((longest, y) => {
      const last = bands[bands.length - 1];
      if (longest > 20 && last && last.top + last.rows === y) {
        last.rows++;
        last.length = Math.max(last.length, longest);
      } else if (longest > 20) bands.push({ top: y, rows: 1, length: longest });
    });
    const bars = bands.filter((b) => b.rows >= 8);
    assert.equal(bars.length, 5, `five threat bars, found bands ${JSON.stringify(bands)}`);
    const widest = card.threats.reduce((m, t) => Math.max(m, t.score), 0);
    const longestBar = Math.max(...bars.map((b) => b.length));
    bars.forEach((bar, i) => {
      // Drawn top to bottom in the scorecard's order; lengths within 2 points of the scores' proportions.
      assert.ok(
        Math.abs(bar.length / longestBar - card.threats[i].score / widest) < 0.02,
        `bar ${i} (${card.threats[i].id}) is ${bar.length}px of ${longestBar}px`,
      );
    });
    const belowBars = bands.filter((b) => b.top > bars[4].top + bars[4].rows && b.rows < 8);
    assert.ok(belowBars.length >= 3, `the trend line's three flat stretches (3, 4, 5 of 10) are drawn below the bars: ${JSON.stringify(bands)}`);
  });

  test('the top five next steps put missing items first, in the scorecard order', async () => {
    const { file } = await render(fixtureScorecard(), fixtureHistory());
    const text = pageText(file, 1);
    const order = [
      'Local administrator rights removed',
      'Decommissioning of equipment',
      'Firewall rules reviewed',
      'Remote access through one gateway',
      'Incident response plan',
    ];
    order.forEach((title, i) => assert.ok(text.includes(`${i + 1}. Not in place: ${title}`), `step ${i + 1} is '${title}': ${text}`));
    assert.ok(!text.includes('Enrol the last 2 users'), 'a partial item does not displace the five missing ones');
    assert.ok(!text.includes('measurement so far'), 'with 30 days of history there is a trend, not a note');
  });

  test('a page per practice, with statuses in words, evidence and next steps', async () => {
    const card = fixtureScorecard();
    const { file } = await render(card, fixtureHistory());
    card.practices.forEach((practice, i) => {
      const text = pageText(file, i + 2);
      assert.ok(text.startsWith(practiceTitles[i]), `page ${i + 2} is '${practiceTitles[i]}': ${text}`);
      for (const item of practice.items) {
        assert.ok(text.includes(`${statusWords[item.status]}: ${item.title}`), `page ${i + 2} lists '${item.title}' as ${statusWords[item.status]}`);
        for (const evidence of item.evidence) assert.ok(text.includes(evidence.text), `page ${i + 2} shows the evidence '${evidence.text}'`);
        if (item.next) assert.ok(text.includes(`Next step: ${item.next}`), `page ${i + 2} shows the next step for '${item.title}'`);
      }
    });
    assert.match(pageText(file, 3), /Not in place: Local administrator rights removed Attested by staff - No evidence recorded yet\./);
  });

  test('a practice too long for its page continues on a page that names it, items kept whole, and every page has its footer', async () => {
    const card = fixtureScorecard();
    const template = card.practices[0].items[1];
    card.practices[0].items = Array.from({ length: 40 }, (_, i) => ({ ...template, id: `hicp-1.x.${i}`, title: `Phishing exercise round ${i + 1}` }));
    const { file } = await render(card, fixtureHistory());
    const total = pages(file);
    assert.ok(total > 11, `40 items do not fit on one page: ${total} pages`);
    const extra = total - 11;
    for (let n = 3; n < 3 + extra; n++) {
      // A continued page starts with its heading and then a whole item, never the tail of one.
      assert.match(pageText(file, n), new RegExp(`^${practiceTitles[0]} \\(continued\\) Partly in place: Phishing exercise round \\d+ Measured by Carewall`));
    }
    assert.ok(pageText(file, 3 + extra).startsWith(practiceTitles[1]), 'the next practice starts on its own page');
    for (let n = 1; n <= total; n++) assert.ok(pageText(file, n).includes(`Page ${n} of ${total}.`), `page ${n} has its footer`);
  });

  test('no trend or no threats yet: an honest note in place of a chart', async () => {
    const one = await render(fixtureScorecard(), fixtureHistory().slice(-1));
    assert.match(pageText(one.file, 1), /Only one measurement so far: the trend appears once/);
    const none = await render({ ...fixtureScorecard(), threats: [] }, []);
    assert.match(pageText(none.file, 1), /No earlier measurements yet/);
    assert.match(pageText(none.file, 1), /No threat has been scored yet\./);
  });

  test('the summary stays on one page with a long summary, and text the standard fonts cannot print is marked', async () => {
    const card = fixtureScorecard();
    card.summary.text = `Coverage ≥ 50 % of practices. ${'Firewall review and an incident response plan remain the largest gaps. '.repeat(20)}`;
    const { file } = await render(card, fixtureHistory());
    assert.equal(pages(file), 11, 'a long summary is cut, not spilled onto a page of its own');
    const text = pageText(file, 1);
    assert.ok(text.startsWith('Riverside Family Practice'));
    assert.ok(text.includes('Coverage ? 50 %'), `'≥' is outside WinAnsi and shows as '?': ${text.slice(0, 200)}`);
    assert.ok(text.includes('5. Not in place: Incident response plan'), 'the fifth next step still fits on page 1');
  });
});

describe('machine-readable export', () => {
  test('format and version, the scorecard and the history oldest first, and it round-trips through JSON', () => {
    const card = fixtureScorecard();
    const history = fixtureHistory().reverse();
    const exported = scorecardJson(card, history);
    assert.equal(exported.format, 'carewall.posture-scorecard');
    assert.equal(exported.version, 1);
    assert.equal(exported.generatedAt, card.generatedAt);
    assert.deepEqual(exported.scorecard, card);
    assert.deepEqual(exported.history, fixtureHistory(), 'sorted oldest first');
    assert.deepEqual(JSON.parse(JSON.stringify(exported)), exported);
    // A copy: changing the scorecard afterwards does not reach an export already handed out.
    card.practices[0].items[0].status = 'missing';
    assert.equal(exported.scorecard.practices[0].items[0].status, 'compliant');
  });
});
