/**
 * The awareness library (issue 26): shipped templates, pages and lessons, the placeholder renderer,
 * landing-page preparation and the GoPhish import. HTML is checked by parsing it (parse5), the way
 * a browser reads it, not by searching strings.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parse, parseFragment, type DefaultTreeAdapterTypes } from 'parse5';
import {
  COURSE_LESSONS,
  GENERAL_LESSON_ID,
  GENERAL_PAGE_ID,
  GophishImportError,
  SAMPLE_VALUES,
  SHIPPED_LESSONS,
  SHIPPED_PAGES,
  SHIPPED_TEMPLATES,
  importGophishPage,
  importGophishTemplate,
  lessonById,
  pageById,
  placeholdersIn,
  prepareLandingPage,
  renderMessage,
  renderTemplate,
  sampleValuesFor,
  shippedIds,
  templateById,
  validateLesson,
  validateTemplate,
  type Lesson,
  type PhishTemplate,
} from '../src/awareness/index.js';

type Node = DefaultTreeAdapterTypes.Node;
type Element = DefaultTreeAdapterTypes.Element;

const fixture = (name: string): unknown => JSON.parse(readFileSync(new URL(`./fixtures/gophish/${name}`, import.meta.url), 'utf8'));

function elements(root: Node): Element[] {
  const out: Element[] = [];
  const visit = (n: Node) => {
    if ('tagName' in n) out.push(n);
    if ('childNodes' in n) n.childNodes.forEach(visit);
    if ('content' in n) (n as DefaultTreeAdapterTypes.Template).content.childNodes.forEach(visit);
  };
  visit(root);
  return out;
}

function text(root: Node): string {
  const parts: string[] = [];
  const visit = (n: Node) => {
    if (n.nodeName === '#text') parts.push((n as DefaultTreeAdapterTypes.TextNode).value);
    if ('childNodes' in n) n.childNodes.forEach(visit);
    if ('tagName' in n && ['p', 'li', 'br', 'h2', 'td'].includes(n.tagName)) parts.push(' ');
  };
  visit(root);
  return parts.join('').replace(/\s+/g, ' ').trim();
}

const attrOf = (el: Element, name: string) => el.attrs.find((a) => a.name === name)?.value;

test('every shipped template validates: known placeholders, {{.URL}} and {{.Tracker}}, its page and lesson exist, its tells are in the message', () => {
  assert.ok(SHIPPED_TEMPLATES.length >= 7);
  assert.equal(new Set(SHIPPED_TEMPLATES.map((t) => t.id)).size, SHIPPED_TEMPLATES.length, 'ids are unique');
  for (const t of SHIPPED_TEMPLATES) {
    assert.deepEqual(validateTemplate(t, shippedIds()), [], t.id);
    assert.ok(pageById(t.landingPage), `${t.id}: page ${t.landingPage}`);
    assert.ok(lessonById(t.lesson), `${t.id}: lesson ${t.lesson}`);
    assert.ok(t.tells.length >= 2 && t.tells.length <= 4, `${t.id}: 2 to 4 tells`);
    assert.match(t.fromAddress, /@[a-z0-9.-]+\.(example|test)$/, `${t.id}: a fictional sender domain`);
    assert.ok(
      placeholdersIn(t.html).some((p) => ['FirstName', 'LastName', 'Email', 'Position', 'Department'].includes(p)),
      `${t.id}: personalised`,
    );

    // Checked here again without the library's own helpers: each marker is in what the recipient sees.
    const m = renderMessage(t, sampleValuesFor(t));
    const seen = { from: m.from, subject: m.subject, body: text(parseFragment(m.html)) };
    for (const tell of t.tells) assert.ok(seen[tell.in].includes(tell.marker), `${t.id}: "${tell.marker}" in ${tell.in}`);
    assert.ok(m.html.includes(`href="${SAMPLE_VALUES.URL}"`), `${t.id}: the tracked link`);
    assert.ok(m.html.includes(`src="${SAMPLE_VALUES.TrackingURL}"`), `${t.id}: the tracked pixel`);
    assert.ok(m.text.includes(SAMPLE_VALUES.URL) && !m.text.includes('<img'), `${t.id}: the text has the link and no pixel`);
  }
});

test('the seven themes are shipped, with difficulties 1, 2 and 3 all represented; difficulty 3 has no plain tells', () => {
  for (const id of ['lab-result-ready', 'rota-change', 'supplier-invoice', 'shared-scan', 'password-expiry', 'parcel-delivery', 'board-message']) {
    assert.ok(templateById(id), id);
  }
  assert.deepEqual(new Set(SHIPPED_TEMPLATES.map((t) => t.difficulty)), new Set([1, 2, 3]));
  for (const t of SHIPPED_TEMPLATES.filter((t) => t.difficulty === 3)) {
    assert.doesNotMatch(`${t.subject} ${t.html}`, /URGENT|Dear (User|Customer)|Click here/i, t.id);
  }
});

test('validateTemplate reports what is wrong, naming fields, never passing a broken template', () => {
  const good = templateById('rota-change') as PhishTemplate;
  const broken: PhishTemplate = {
    ...good,
    html: good.html.replace('{{.URL}}', '{{.Nope}}'),
    landingPage: 'no-such-page',
    lesson: 'no-such-lesson',
  };
  const problems = validateTemplate(broken, shippedIds());
  assert.ok(problems.some((p) => p.startsWith('html: unknown placeholder') && p.includes('{{.Nope}}')));
  assert.ok(problems.includes('html: no {{.URL}} (the tracked link)'));
  assert.ok(problems.includes('landingPage: not a known landing page'));
  assert.ok(problems.includes('lesson: not a known lesson'));

  const logic = validateTemplate({ ...good, subject: '{{if .FirstName}}Hi{{end}}' }, shippedIds());
  assert.ok(logic.some((p) => p.startsWith('subject: template logic')));

  const badTell = validateTemplate({ ...good, tells: [...good.tells, { in: 'subject', marker: 'Dear User', explanation: 'x' }] }, shippedIds());
  assert.deepEqual(badTell, [`tells[${good.tells.length}]: marker not found in the rendered subject`]);
});

test('every lesson: three questions with the answer in range, plain HTML, five minutes or less', () => {
  assert.ok(SHIPPED_LESSONS.length >= 8);
  assert.equal(new Set(SHIPPED_LESSONS.map((l) => l.id)).size, SHIPPED_LESSONS.length);
  for (const l of SHIPPED_LESSONS) {
    assert.equal(l.quiz.length, 3, l.id);
    for (const q of l.quiz) {
      assert.ok(q.choices.length >= 2 && Number.isInteger(q.answer) && q.answer >= 0 && q.answer < q.choices.length, `${l.id}: ${q.question}`);
      assert.ok(q.question.trim() && q.why.trim());
    }
    const fragment = parseFragment(l.html);
    for (const el of elements(fragment)) {
      assert.ok(
        !['script', 'style', 'iframe', 'object', 'embed', 'img', 'link', 'meta', 'base', 'form', 'video', 'audio'].includes(el.tagName),
        `${l.id}: <${el.tagName}>`,
      );
      for (const a of el.attrs) {
        assert.ok(!a.name.startsWith('on'), `${l.id}: ${a.name}`);
        assert.ok(!['src', 'srcset', 'style', 'background', 'href', 'action'].includes(a.name), `${l.id}: ${a.name} (no external resource, no styling)`);
      }
    }
    const words = text(fragment).split(' ').length;
    assert.ok(words <= 5 * 200, `${l.id}: ${words} words`);
    assert.equal(l.minutes, Math.max(1, Math.ceil(words / 200)), `${l.id}: minutes from ${words} words`);
    assert.ok(l.minutes <= 5);
  }
  for (const l of SHIPPED_LESSONS) assert.deepEqual(validateLesson(l), [], l.id);
  assert.ok(COURSE_LESSONS.length >= 4);
  assert.ok(lessonById(GENERAL_LESSON_ID) && pageById(GENERAL_PAGE_ID));
  const topics = [
    'checking-the-sender',
    'links-and-hovering',
    'credential-requests',
    'attachments',
    'urgency-and-authority',
    'invoices-and-payments',
    'parcel-scams',
  ];
  for (const id of [...topics, 'reporting-suspicious-mail', 'password-expiry-and-mfa']) assert.ok(lessonById(id), id);
});

test('validateLesson refuses what would run, load or style inside the console, and dishonest minutes', () => {
  const good = lessonById('parcel-scams') as Lesson;
  const hostile: Lesson = {
    ...good,
    html: `${good.html}<script>x()</script><p onclick="x()" style="color:red">a</p><img src="https://tracker.example/p.gif"><style>p{}</style>`,
    minutes: 4,
    quiz: [...good.quiz.slice(0, 2), { ...good.quiz[2], answer: 7 }],
  };
  assert.deepEqual(validateLesson(hostile), [
    'html: elements not allowed in a lesson: img, script, style',
    'html: attributes not allowed in a lesson: onclick, src, style',
    `minutes: 4, but the text reads in ${good.minutes}`,
    'quiz[2]: answer is not one of the choices',
  ]);
  assert.deepEqual(validateLesson({ ...good, quiz: good.quiz.slice(0, 2) }), ['quiz: not exactly three questions']);
  const long = { ...good, html: `<p>${'word '.repeat(1001)}</p>` };
  assert.deepEqual(validateLesson({ ...long, minutes: 6 }), ['html: 6 minutes of reading (five at most)']);
});

test('renderTemplate: values fill {{.Name}} and {{ .Name }}, escaped in HTML, unknown text left alone', () => {
  const hostile = '<img src=x onerror=alert(1)>';
  const html = renderTemplate(
    '<p>Hi {{.FirstName}} {{ .LastName }}, {{.Nope}} {{if .X}}y{{end}} {{.Position}}</p>',
    { FirstName: hostile, LastName: `O'Brien & "Co"` },
    { html: true },
  );
  assert.equal(html, `<p>Hi &lt;img src=x onerror=alert(1)&gt; O&#39;Brien &amp; &quot;Co&quot;, {{.Nope}} {{if .X}}y{{end}} </p>`);
  assert.equal(elements(parseFragment(html)).filter((el) => el.tagName === 'img').length, 0, 'the name arrives as text, not as an element');

  assert.equal(renderTemplate('Hi {{.FirstName}}', { FirstName: hostile }, { html: false }), `Hi ${hostile}`, 'plain text is not escaped');
  assert.equal(
    renderTemplate('<a href="{{.URL}}">x</a>', { URL: 'https://c.example/a?x=1&rid=2' }, { html: true }),
    '<a href="https://c.example/a?x=1&amp;rid=2">x</a>',
  );

  const pixel = renderTemplate('{{.Tracker}}', { TrackingURL: 'https://c.example/t?rid="><script>' }, { html: true });
  const img = elements(parseFragment(pixel));
  assert.deepEqual(
    img.map((el) => [el.tagName, attrOf(el, 'src')]),
    [['img', 'https://c.example/t?rid="><script>']],
  );
  assert.equal(renderTemplate('a{{.Tracker}}b', { TrackingURL: 'https://c.example/t' }, { html: false }), 'ab', 'no pixel in plain text');
  assert.throws(() => renderTemplate('{{.Tracker}}', { Tracker: '<img src=x>' }, { html: true }), /TrackingURL/);

  assert.deepEqual(placeholdersIn('{{.URL}} {{ .FirstName }} {{.URL}} {{.Nope}}'), ['URL', 'FirstName', 'Nope']);
});

function assertPrepared(out: string, submitUrl: string): Element[] {
  assert.match(out, /^<!DOCTYPE html>/i);
  const els = elements(parse(out));
  const forms = els.filter((el) => el.tagName === 'form');
  assert.ok(forms.length > 0);
  for (const f of forms) {
    assert.equal(attrOf(f, 'action'), submitUrl);
    assert.equal(attrOf(f, 'method'), 'post');
    assert.equal(attrOf(f, 'target'), undefined);
  }
  for (const el of els) {
    assert.ok(!['script', 'iframe', 'object', 'embed', 'base', 'link', 'frame'].includes(el.tagName), `<${el.tagName}> left`);
    assert.ok(!(el.tagName === 'meta' && attrOf(el, 'http-equiv') !== undefined), 'meta http-equiv left');
    for (const a of el.attrs) {
      assert.ok(!a.name.startsWith('on'), `${a.name} left`);
      assert.ok(!/^\s*javascript:/i.test(a.value), `javascript: URL left in ${a.name}`);
      assert.ok(!a.name.startsWith('form') || a.name === 'form', `${a.name} left`);
    }
    if (['input', 'select', 'textarea'].includes(el.tagName)) {
      assert.equal(attrOf(el, 'name'), undefined, `<${el.tagName}> keeps a name`);
      assert.equal(attrOf(el, 'autocomplete'), 'off');
      if (attrOf(el, 'type')?.toLowerCase() === 'password') assert.equal(attrOf(el, 'value'), undefined, 'a password value left');
    }
  }
  return els;
}

test('prepareLandingPage: no field keeps a name, passwords lose their value, scripts and handlers go, forms post to the submit URL', () => {
  const hostile = `<form action="https://elsewhere.example/x" method="get" name="f" target="_blank">
<INPUT NAME="user" TYPE="TEXT" VALUE="me"><input name="pw" type="PASSWORD" value="secret">
<select name="s"><option>a</option></select><textarea name="t">typed</textarea>
<button formaction="https://elsewhere.example/y" onclick="go()">Go</button></form>
<a href=" JaVaScRiPt:alert(1)">x</a><svg><script>alert(1)</script></svg><object data="x.swf"></object><embed src="x">
<base href="https://elsewhere.example/"><meta http-equiv="refresh" content="0;url=https://elsewhere.example/">
<img src="logo.png" onerror="alert(1)"><!--[if IE]><p>old</p><![endif]--><template><script>alert(2)</script><input name="hidden"></template>`;
  const out = prepareLandingPage(hostile, '/a/s/R1');
  const els = assertPrepared(out, '/a/s/R1');
  assert.ok(!out.includes('secret') && !out.includes('alert(') && !out.includes('<!--'), 'nothing of the password, the scripts or the comments is left');
  assert.ok(
    els.some((el) => el.tagName === 'img' && attrOf(el, 'src') === 'logo.png'),
    'harmless content stays',
  );

  for (const page of SHIPPED_PAGES) {
    const rendered = renderTemplate(page.html, { Email: 'robin@clinic.example' }, { html: true });
    const prepared = assertPrepared(prepareLandingPage(rendered, 'https://carewall.clinic.example/a/s?rid=R1'), 'https://carewall.clinic.example/a/s?rid=R1');
    assert.ok(
      prepared.some((el) => el.tagName === 'input'),
      page.id,
    );
  }
  assert.ok(
    SHIPPED_PAGES.some((p) => /type="password"/.test(p.html)),
    'credential lures have password fields',
  );

  for (const bad of ['javascript:alert(1)', '//elsewhere.example/x', 'data:text/html,x', 'not a url']) {
    assert.throws(() => prepareLandingPage('<form></form>', bad), /submitUrl/, bad);
  }
});

test('GoPhish template import: the fields map, defaults apply, the result validates', () => {
  const t = importGophishTemplate(fixture('template.json'));
  assert.equal(t.id, 'staff-survey-car-park-permits');
  assert.equal(t.name, 'Staff survey: car park permits');
  assert.equal(t.fromName, 'Estates Office');
  assert.equal(t.fromAddress, 'estates@carpark-permits.example');
  assert.equal(t.subject, '{{.FirstName}}, renew your car park permit');
  assert.equal(t.difficulty, 2);
  assert.deepEqual(t.tells, []);
  assert.equal(t.lesson, GENERAL_LESSON_ID);
  assert.equal(t.landingPage, GENERAL_PAGE_ID);
  assert.match(t.html, /\{\{\.Tracker\}\}\s*<\/body>/, 'the pixel is added before </body>, as GoPhish adds it');
  assert.deepEqual(validateTemplate(t, shippedIds()), []);
  assert.ok(renderMessage(t, sampleValuesFor(t)).html.includes('Hello Robin Sample'), '{{ .FirstName }} with spaces is filled');

  const chosen = importGophishTemplate(
    { ...(fixture('template.json') as object), envelope_sender: '', text: undefined },
    { id: 'car-park', lesson: 'links-and-hovering', landingPage: 'document-viewer', difficulty: 1, from: 'estates@carpark-permits.example' },
  );
  assert.deepEqual([chosen.id, chosen.lesson, chosen.landingPage, chosen.difficulty], ['car-park', 'links-and-hovering', 'document-viewer', 1]);
  assert.deepEqual([chosen.fromName, chosen.fromAddress], ['estates@carpark-permits.example', 'estates@carpark-permits.example']);
  assert.ok(chosen.text.includes('{{.URL}}') && chosen.text.includes('Renew my permit'), 'a text body is made from the HTML');
});

test('GoPhish import refuses, naming the field and never quoting the content', () => {
  const canary = 'CANARY-7f3a';
  const base = fixture('template.json') as Record<string, unknown>;
  const refusals: [unknown, RegExp][] = [
    [null, /JSON object \(got null\)/],
    [[base], /JSON object \(got an array\)/],
    [`{"name":"${canary}"}`, /JSON object \(got string\)/],
    [42, /JSON object \(got number\)/],
    [{ ...base, name: undefined }, /name: missing/],
    [{ ...base, html: '' }, /html: missing/],
    [{ ...base, html: `<p>{{if .FirstName}}${canary}{{end}}</p>{{.URL}}` }, /html: uses Go template logic/],
    [{ ...base, text: `{{range .Items}}${canary}{{end}}` }, /text: uses Go template logic/],
    [{ ...base, subject: `{{template "x"}}${canary}` }, /subject: uses Go template logic/],
    [{ ...base, html: `<p>${canary} {{.SecretField}}</p>{{.URL}}` }, /html: a placeholder Carewall does not know, at character \d+/],
    [{ ...base, attachments: [{ name: `${canary}.pdf`, type: 'application/pdf', content: 'JVBERi0=' }] }, /attachments: attachments are not supported/],
    [{ ...base, envelope_sender: `${canary} no address` }, /envelope_sender: not a mail address/],
    [{ ...base, envelope_sender: '' }, /envelope_sender: empty/],
    [{ ...base, html: `<p>${canary}</p>` }, /no \{\{\.URL\}\}/],
  ];
  for (const [input, expected] of refusals) {
    assert.throws(
      () => importGophishTemplate(input),
      (err: unknown) => {
        assert.ok(err instanceof GophishImportError, String(err));
        assert.match(err.message, expected);
        assert.ok(!err.message.includes(canary) && !err.message.includes('SecretField'), `content echoed: ${err.message}`);
        return true;
      },
    );
  }
  assert.throws(() => importGophishPage({ name: 'x', html: `{{if .X}}${canary}{{end}}` }), /html: uses Go template logic/);
  assert.throws(() => importGophishPage([]), /JSON object \(got an array\)/);
  assert.throws(() => importGophishPage({ name: 'x' }), /html: missing/);
});

test('GoPhish page import: kept as written, then served with nothing typed ever sent (capture_passwords is ignored)', () => {
  const page = importGophishPage(fixture('page.json'));
  assert.equal(page.id, 'estates-portal-sign-in');
  assert.equal(page.name, 'Estates portal sign-in');
  assert.deepEqual(Object.keys(page).sort(), ['html', 'id', 'name'], 'capture settings and the redirect are not kept');
  assert.equal(importGophishPage(fixture('page.json'), { id: 'estates' }).id, 'estates');

  const served = prepareLandingPage(renderTemplate(page.html, { Email: 'robin@clinic.example' }, { html: true }), '/a/s/R2');
  assertPrepared(served, '/a/s/R2');
  assert.ok(!served.includes('hunter2') && !served.includes('track.js') && !served.includes('site.css') && !served.includes('steal()'));
});
