/**
 * The pages a simulation's recipient sees in their browser: the imitation page a click leads to,
 * and the lesson with its quiz. Carewall writes them itself (they are part of the product), with a
 * Content-Security-Policy that lets only Carewall's own small script run: an imported page's
 * scripts are stripped (library/landing.ts) and would not run anyway.
 */
import crypto from 'node:crypto';
import { escapeHtml } from './library/html.js';
import type { Lesson, PhishTemplate } from './library/types.js';
import type { OutgoingMessage } from './sending.js';

export interface Page {
  html: string;
  csp: string;
}

function page(title: string, body: string, script?: string): Page {
  const nonce = crypto.randomBytes(16).toString('base64');
  const csp = [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    "style-src 'unsafe-inline'",
    "img-src 'self' data:",
    "form-action 'self'",
    "connect-src 'self'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta name="robots" content="noindex"><title>${escapeHtml(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;line-height:1.5;color:#1b1b1b}mark{background:#ffe08a;padding:0 .15em}.message{border:1px solid #888;border-radius:6px;padding:1rem;margin:1rem 0;white-space:pre-wrap}.tells li{margin:.5rem 0}fieldset{margin:1rem 0;border:1px solid #888;border-radius:6px}button{font-size:1rem;padding:.5rem 1rem}.ok{color:#0a5c2b}.ko{color:#8a1010}</style>
</head><body>${body}${script ? `<script nonce="${nonce}">${script}</script>` : ''}</body></html>`;
  return { html, csp };
}

/**
 * The page's script reports that a browser ran it (a fetcher never does: the click is then judged
 * automatic), and empties every field before a form is sent: the fields have no names, so a browser
 * sends none of them anyway; this is the second lock.
 */
function beaconScript(beaconUrl: string, then?: string): string {
  return `(function(){var u=${JSON.stringify(beaconUrl)};var sent=navigator.sendBeacon?navigator.sendBeacon(u):false;if(!sent){fetch(u,{method:'POST',keepalive:true}).catch(function(){});}
document.addEventListener('submit',function(e){var f=e.target.querySelectorAll('input,textarea,select');for(var i=0;i<f.length;i++){if(f[i].type!=='submit'&&f[i].type!=='hidden'){f[i].value='';}}},true);
${then ? `location.replace(${JSON.stringify(then)});` : ''}})();`;
}

/** The imitation page (already prepared: unnamed fields, forms posting to the submit address), with the beacon. */
export function landingPage(preparedHtml: string, beaconUrl: string): Page {
  const body = /<body[^>]*>([\s\S]*)<\/body>/i.exec(preparedHtml)?.[1] ?? preparedHtml;
  const title = /<title>([^<]*)<\/title>/i.exec(preparedHtml)?.[1] ?? 'Sign in';
  return page(title, body, beaconScript(beaconUrl));
}

/** A click that leads straight to the lesson: the script reports and moves on; without a script, a link. */
export function toLessonPage(beaconUrl: string, lessonUrl: string): Page {
  return page('One moment', `<main><p><a href="${escapeHtml(lessonUrl)}">Continue</a></p></main>`, beaconScript(beaconUrl, lessonUrl));
}

/** The message as the person received it (its text), with each tell highlighted where it is. */
function highlighted(text: string, tells: PhishTemplate['tells'], where: 'from' | 'subject' | 'body'): string {
  let out = escapeHtml(text);
  for (const t of tells.filter((x) => x.in === where)) {
    const marker = escapeHtml(t.marker);
    if (marker && out.includes(marker)) out = out.replace(marker, `<mark title="${escapeHtml(t.explanation)}">${marker}</mark>`);
  }
  return out;
}

export interface QuizOutcome {
  passed: boolean;
  correct: boolean[];
}

export function lessonPage(opts: {
  template: PhishTemplate;
  message: OutgoingMessage;
  lesson: Lesson;
  quizUrl: string;
  outcome?: QuizOutcome;
  course?: { lessons: Lesson[]; quizUrl: (lessonId: string) => string };
}): Page {
  const { template, message, lesson, outcome } = opts;
  const tells = template.tells.map((t) => `<li><strong>${escapeHtml(t.marker)}</strong>: ${escapeHtml(t.explanation)}</li>`).join('');
  const questions = lesson.quiz
    .map(
      (q, i) =>
        `<fieldset><legend>${i + 1}. ${escapeHtml(q.question)}</legend>${q.choices
          .map((c, j) => `<div><input type="radio" id="q${i}c${j}" name="q${i}" value="${j}" required><label for="q${i}c${j}">${escapeHtml(c)}</label></div>`)
          .join(
            '',
          )}${outcome ? `<p class="${outcome.correct[i] ? 'ok' : 'ko'}">${outcome.correct[i] ? 'Right.' : 'Not quite.'} ${escapeHtml(q.why)}</p>` : ''}</fieldset>`,
    )
    .join('');
  const result = outcome
    ? outcome.passed
      ? `<p class="ok" role="status"><strong>Well done: you passed.</strong> Thank you for taking the time.</p>`
      : `<p class="ko" role="status"><strong>Not yet: ${outcome.correct.filter(Boolean).length} of ${outcome.correct.length} right.</strong> Read the whys above and try again.</p>`
    : '';
  const course = opts.course?.lessons.length
    ? `<section><h2>Your course</h2><p>You have been enrolled in a short course of ${opts.course.lessons.length} lessons.</p><ul>${opts.course.lessons
        .map((l) => `<li><a href="${escapeHtml(opts.course!.quizUrl(l.id))}">${escapeHtml(l.title)}</a> (${l.minutes} min)</li>`)
        .join('')}</ul></section>`
    : '';
  const body = `<main>
<h1>This was a simulated phishing message</h1>
<p>Nothing was harmed, and what you typed (if anything) never left your browser. This is your clinic's awareness programme: here is what gave the message away, on the message itself.</p>
<section aria-label="The message"><div class="message"><div><strong>From:</strong> ${highlighted(message.from, template.tells, 'from')}</div><div><strong>Subject:</strong> ${highlighted(message.subject, template.tells, 'subject')}</div><hr>${highlighted(message.text, template.tells, 'body')}</div></section>
<section><h2>What gave it away</h2><ul class="tells">${tells}</ul></section>
<section><h2>${escapeHtml(lesson.title)} (${lesson.minutes} min)</h2>${lesson.html}</section>
<section><h2>Three questions</h2><form method="post" action="${escapeHtml(opts.quizUrl)}">${questions}<button type="submit">Check my answers</button></form>${result}</section>
${course}
</main>`;
  return page(`Lesson: ${lesson.title}`, body);
}

export function notFoundPage(): Page {
  return page('Not found', '<main><h1>This link is no longer valid</h1></main>');
}
