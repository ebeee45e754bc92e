/**
 * The templates, landing pages and lessons a campaign may use: those shipped with Carewall (in code,
 * so an upgrade improves them) and those the clinic added or imported from GoPhish (in the database).
 * A clinic's template may not take a shipped one's identifier: what a campaign names stays what it was.
 */
import type { Queryable } from '../db/index.js';
import { FhirError } from '../shared/index.js';
import { SHIPPED_LESSONS, SHIPPED_PAGES, SHIPPED_TEMPLATES } from './library/catalog.js';
import { GophishImportError, importGophishPage, importGophishTemplate } from './library/gophish.js';
import { validateTemplate } from './library/render.js';
import type { LandingPage, Lesson, PhishTemplate } from './library/types.js';

const ID = /^[a-z0-9][a-z0-9-]{0,63}$/;

export class Catalogue {
  constructor(private readonly db: Queryable) {}

  async templates(): Promise<Array<PhishTemplate & { shipped: boolean }>> {
    const own = await this.stored<PhishTemplate>('template');
    return [...SHIPPED_TEMPLATES.map((t) => ({ ...t, shipped: true })), ...own.map((t) => ({ ...t, shipped: false }))];
  }

  async pages(): Promise<Array<LandingPage & { shipped: boolean }>> {
    const own = await this.stored<LandingPage>('page');
    return [...SHIPPED_PAGES.map((p) => ({ ...p, shipped: true })), ...own.map((p) => ({ ...p, shipped: false }))];
  }

  lessons(): readonly Lesson[] {
    return SHIPPED_LESSONS;
  }

  lesson(id: string): Lesson | undefined {
    return SHIPPED_LESSONS.find((l) => l.id === id);
  }

  /** `q`: the transaction the caller is in (the embedded database has one connection: a query outside it would wait for it). */
  async template(id: string, q: Queryable = this.db): Promise<PhishTemplate | undefined> {
    return SHIPPED_TEMPLATES.find((t) => t.id === id) ?? (await this.storedOne<PhishTemplate>('template', id, q));
  }

  async page(id: string): Promise<LandingPage | undefined> {
    return SHIPPED_PAGES.find((p) => p.id === id) ?? (await this.storedOne<LandingPage>('page', id));
  }

  /** Adds a clinic's own template after checking it as the shipped ones are checked. */
  async addTemplate(template: PhishTemplate, by: string): Promise<PhishTemplate> {
    await this.checkNewId(template.id);
    const problems = validateTemplate(template, { pages: (await this.pages()).map((p) => p.id), lessons: SHIPPED_LESSONS.map((l) => l.id) });
    if (problems.length > 0) throw new FhirError(400, 'invalid', `the template cannot be used: ${problems.join('; ')}`);
    await this.db.query(`insert into awareness_template (id, kind, body, created_by) values ($1, 'template', $2, $3)`, [
      template.id,
      JSON.stringify(template),
      by,
    ]);
    return template;
  }

  async addPage(page: LandingPage, by: string): Promise<LandingPage> {
    await this.checkNewId(page.id);
    await this.db.query(`insert into awareness_template (id, kind, body, created_by) values ($1, 'page', $2, $3)`, [page.id, JSON.stringify(page), by]);
    return page;
  }

  /**
   * GoPhish's exported template (and, optionally, its page) JSON, kept under Carewall's shapes.
   * `from` is the sender when the template has none (GoPhish keeps it in the sending profile).
   */
  async importGophish(
    input: { template?: unknown; page?: unknown; id?: string; from?: string },
    by: string,
  ): Promise<{ template?: PhishTemplate; page?: LandingPage }> {
    const out: { template?: PhishTemplate; page?: LandingPage } = {};
    try {
      const page = input.page !== undefined ? importGophishPage(input.page, input.id ? { id: `${input.id}-page` } : {}) : undefined;
      const template =
        input.template !== undefined
          ? importGophishTemplate(input.template, {
              ...(input.id ? { id: input.id } : {}),
              ...(input.from ? { from: input.from } : {}),
              ...(page ? { landingPage: page.id } : {}),
              known: { pages: [...(await this.pages()).map((p) => p.id), ...(page ? [page.id] : [])], lessons: SHIPPED_LESSONS.map((l) => l.id) },
            })
          : undefined;
      if (page) out.page = await this.addPage(page, by);
      if (template) out.template = await this.addTemplate(template, by);
    } catch (err) {
      // Its message names the field and a position, never the content.
      if (err instanceof GophishImportError) throw new FhirError(400, 'invalid', err.message);
      throw err;
    }
    return out;
  }

  private async checkNewId(id: string): Promise<void> {
    if (!ID.test(id)) throw new FhirError(400, 'invalid', 'an identifier is lower-case letters, digits and dashes (at most 64)');
    const shipped = SHIPPED_TEMPLATES.some((t) => t.id === id) || SHIPPED_PAGES.some((p) => p.id === id);
    const stored = await this.db.query('select 1 from awareness_template where id = $1', [id]);
    if (shipped || stored.rows.length > 0) throw new FhirError(409, 'duplicate', 'a template or page with this identifier exists');
  }

  private async stored<T>(kind: 'template' | 'page'): Promise<T[]> {
    const r = await this.db.query<{ body: T }>('select body from awareness_template where kind = $1 order by id', [kind]);
    return r.rows.map((row) => row.body);
  }

  private async storedOne<T>(kind: 'template' | 'page', id: string, q: Queryable = this.db): Promise<T | undefined> {
    const r = await q.query<{ body: T }>('select body from awareness_template where kind = $1 and id = $2', [kind, id]);
    return r.rows[0]?.body;
  }
}
