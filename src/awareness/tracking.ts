/**
 * What a simulation's recipient does, as their browser (or a scanner) reaches Carewall with the
 * message's token: the pixel (opened), the link (clicked), the page's script (beacon), the form
 * (submitted: never its fields), the lesson and its quiz (trained). Each becomes an event of the
 * target; nothing typed is ever read: the form's route refuses any body before reading it.
 */
import type { Database, Queryable } from '../db/index.js';
import type { Catalogue } from './catalogue.js';
import { prepareLandingPage } from './library/landing.js';
import { renderTemplate } from './library/render.js';
import type { Lesson } from './library/types.js';
import { landingPage, lessonPage, notFoundPage, toLessonPage, type Page, type QuizOutcome } from './pages.js';
import { personFromJson, type Person } from './people.js';
import { renderFor } from './sending.js';
import { tokenHash } from './campaigns.js';

export interface Visit {
  ip?: string;
  userAgent?: string;
  at: Date;
}

interface TargetRow {
  id: string;
  campaign_id: string;
  template_id: string;
  landing_page: boolean;
  person: Record<string, unknown>;
}

/** Of every quiz, this many answers right pass it: all three. */
const PASS_MARK = 3;
/** Mistakes (a click or a submission, people's own) in this many of a person's last simulations enrol them in the course. */
const COURSE_AFTER = { mistakes: 2, within: 3 };

export class Tracking {
  constructor(
    private readonly db: Database,
    private readonly catalogue: Catalogue,
    private readonly trackingUrl: () => string | undefined,
  ) {}

  private async target(q: Queryable, token: string): Promise<(TargetRow & { personValue: Person }) | undefined> {
    if (!/^[A-Za-z0-9_-]{43}$/.test(token)) return undefined;
    const r = await q.query<TargetRow>(
      `select t.id, t.campaign_id, t.template_id, coalesce((c.plan->>'landingPage')::boolean, true) as landing_page, to_jsonb(p) as person
       from awareness_target t join awareness_campaign c on c.id = t.campaign_id join awareness_person p on p.id = t.person_id
       where t.token_hash = $1`,
      [tokenHash(token)],
    );
    const row = r.rows[0];
    if (!row) return undefined;
    return { ...row, personValue: personFromJson(row.person) };
  }

  private async event(q: Queryable, targetId: string, kind: string, at: Date, facts: object = {}): Promise<number> {
    const r = await q.query<{ n: string }>('insert into awareness_event (target_id, kind, at, facts) values ($1, $2, $3, $4) returning n', [
      targetId,
      kind,
      at,
      JSON.stringify(facts),
    ]);
    return Number(r.rows[0].n);
  }

  private urls(token: string) {
    const base = this.trackingUrl() ?? '';
    return {
      beacon: (click: number) => `${base}/aw/b/${token}?c=${click}`,
      submit: `${base}/aw/s/${token}`,
      lesson: (lessonId?: string) => `${base}/aw/l/${token}${lessonId ? `?lesson=${encodeURIComponent(lessonId)}` : ''}`,
      quiz: (lessonId?: string) => `${base}/aw/q/${token}${lessonId ? `?lesson=${encodeURIComponent(lessonId)}` : ''}`,
    };
  }

  /** The pixel: true when the token was one of ours. */
  async opened(token: string, visit: Visit): Promise<boolean> {
    const t = await this.target(this.db, token);
    if (!t) return false;
    await this.event(this.db, t.id, 'opened', visit.at, visitFacts(visit));
    return true;
  }

  /** The link: the imitation page, or straight on to the lesson. */
  async clicked(token: string, visit: Visit): Promise<Page> {
    const t = await this.target(this.db, token);
    if (!t) return notFoundPage();
    const n = await this.event(this.db, t.id, 'clicked', visit.at, visitFacts(visit));
    const urls = this.urls(token);
    const template = await this.catalogue.template(t.template_id);
    const page = t.landing_page && template ? await this.catalogue.page(template.landingPage) : undefined;
    if (!page) return toLessonPage(urls.beacon(n), urls.lesson());
    // The page's own placeholders (the person's name, as a real portal would greet them) first.
    const p = t.personValue;
    const filled = renderTemplate(
      page.html,
      { FirstName: p.firstName, LastName: p.lastName, Email: p.email, Department: p.department, Position: p.position },
      { html: true },
    );
    return landingPage(prepareLandingPage(filled, urls.submit), urls.beacon(n));
  }

  async beacon(token: string, click: number, visit: Visit): Promise<void> {
    const t = await this.target(this.db, token);
    if (!t || !Number.isSafeInteger(click)) return;
    // Only a click of this very message counts: a beacon naming another's click is ignored.
    const own = await this.db.query(`select 1 from awareness_event where n = $1 and target_id = $2 and kind = 'clicked'`, [click, t.id]);
    if (own.rows.length === 0) return;
    await this.db.transaction(async (tx) => {
      await this.event(tx, t.id, 'beacon', visit.at, { ...visitFacts(visit), click });
      await this.updateCourse(tx, t.personValue, visit.at);
    });
  }

  /** The form was sent: recorded as a fact, with nothing of what was in it. Returns where to go next. */
  async submitted(token: string, visit: Visit): Promise<string | undefined> {
    const t = await this.target(this.db, token);
    if (!t) return undefined;
    await this.db.transaction(async (tx) => {
      await this.event(tx, t.id, 'submitted', visit.at, visitFacts(visit));
      await this.updateCourse(tx, t.personValue, visit.at);
    });
    return this.urls(token).lesson();
  }

  /** The lesson for the message (or, for someone enrolled, one of the course's lessons) with its quiz. */
  async lesson(token: string, lessonId: string | undefined, outcome?: QuizOutcome): Promise<Page> {
    const t = await this.target(this.db, token);
    const template = t && (await this.catalogue.template(t.template_id));
    if (!t || !template) return notFoundPage();
    // Once enrolled, the course's lessons stay open to the person, passed or not.
    const course = t.personValue.courseEnrolledAt ? this.catalogue.lessons().filter((l) => l.course) : [];
    const lesson = this.chosenLesson(template.lesson, lessonId, course);
    if (!lesson) return notFoundPage();
    const base = this.trackingUrl() ?? '';
    const urls = this.urls(token);
    return lessonPage({
      template,
      message: renderFor(template, t.personValue, token, base),
      lesson,
      quizUrl: urls.quiz(lessonId),
      ...(outcome ? { outcome } : {}),
      course: { lessons: t.personValue.coursePassedAt ? [] : course.filter((l) => l.id !== lesson.id), quizUrl: (id) => urls.lesson(id) },
    });
  }

  private chosenLesson(messageLesson: string, asked: string | undefined, course: Lesson[]): Lesson | undefined {
    if (!asked || asked === messageLesson) return this.catalogue.lesson(messageLesson);
    return course.find((l) => l.id === asked);
  }

  /**
   * Grades the quiz. All three right is a pass (trained); otherwise the whys are shown and the person
   * may try again. Mistakes in two of their last three simulations enrol a person in the course;
   * passing every course lesson completes it.
   */
  async answered(token: string, lessonId: string | undefined, answers: Record<string, unknown>, at: Date): Promise<Page> {
    const t = await this.target(this.db, token);
    const template = t && (await this.catalogue.template(t.template_id));
    if (!t || !template) return notFoundPage();
    // Once enrolled, the course's lessons stay open to the person, passed or not.
    const course = t.personValue.courseEnrolledAt ? this.catalogue.lessons().filter((l) => l.course) : [];
    const lesson = this.chosenLesson(template.lesson, lessonId, course);
    if (!lesson) return notFoundPage();
    const correct = lesson.quiz.map((q, i) => String(answers[`q${i}`] ?? '') === String(q.answer));
    const passed = correct.filter(Boolean).length >= Math.min(PASS_MARK, lesson.quiz.length);
    await this.db.transaction(async (tx) => {
      await this.event(tx, t.id, passed ? 'trained' : 'quiz-failed', at, { lesson: lesson.id, right: correct.filter(Boolean).length });
      await this.updateCourse(tx, t.personValue, at);
    });
    return this.lesson(token, lessonId, { passed, correct });
  }

  /** Enrols after repeated mistakes (called as each mistake is recorded); completes the course as its lessons are passed. */
  private async updateCourse(tx: Queryable, person: Person, at: Date): Promise<void> {
    if (!person.courseEnrolledAt) {
      const last = await tx.query<{ mistake: boolean }>(
        // A mistake: the form sent, or a click whose page a browser ran (a scanner's click is no one's mistake).
        `select exists (select 1 from awareness_event e where e.target_id = t.id and e.kind in ('submitted', 'beacon')) as mistake
         from awareness_target t where t.person_id = $1 and t.sent_at is not null order by t.sent_at desc limit $2`,
        [person.id, COURSE_AFTER.within],
      );
      if (last.rows.filter((r) => r.mistake).length >= COURSE_AFTER.mistakes) {
        await tx.query('update awareness_person set course_enrolled_at = $2 where id = $1 and course_enrolled_at is null', [person.id, at]);
      }
      return;
    }
    if (person.coursePassedAt) return;
    const course = this.catalogue
      .lessons()
      .filter((l) => l.course)
      .map((l) => l.id);
    const passed = await tx.query<{ lesson: string }>(
      `select distinct e.facts->>'lesson' as lesson from awareness_event e join awareness_target t on t.id = e.target_id
       where t.person_id = $1 and e.kind = 'trained' and e.at >= $2`,
      [person.id, person.courseEnrolledAt],
    );
    const done = new Set(passed.rows.map((r) => r.lesson));
    if (course.length > 0 && course.every((id) => done.has(id))) {
      await tx.query('update awareness_person set course_passed_at = $2 where id = $1', [person.id, at]);
    }
  }
}

function visitFacts(v: Visit): Record<string, string> {
  return { ...(v.ip ? { ip: v.ip } : {}), ...(v.userAgent ? { ua: v.userAgent.slice(0, 300) } : {}) };
}
