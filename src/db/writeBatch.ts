/**
 * Several writes sent as one statement (data-modifying WITH queries): one round trip instead of one
 * a write. On the embedded database a statement costs about 150 us however small (PGlite parses,
 * plans and describes each one), which is most of what a small transaction's writes cost.
 *
 * PostgreSQL runs the writes on one snapshot, in no set order, and none sees another's rows: they
 * must not touch the same rows, nor read what another writes.
 */
import type { Queryable, Statement } from './database.js';
import { bindTo } from './sqlParams.js';

export class WriteBatch {
  private readonly writes: string[] = [];
  private readonly params: unknown[] = [];
  /** A placeholder ($n) for `value`, for the statement being added. */
  readonly bind = bindTo(this.params);

  /** Adds an INSERT, UPDATE or DELETE (no RETURNING needed) whose values came through `bind`. */
  add(sql: string): void {
    this.writes.push(sql);
  }

  /**
   * Runs the writes; `select`, an expression over bound values, is evaluated by the same statement
   * after them (a `pg_notify`, delivered when the transaction commits; a SELECT in a WITH clause
   * that nothing reads would not run at all).
   */
  async run(q: Queryable, select?: string): Promise<void> {
    const statement = this.statement(select);
    if (statement) await q.query(statement.sql, statement.params);
  }

  /** The one statement `run` sends (none when there is nothing to write), for a caller that sends it itself. */
  statement(select?: string): Statement | undefined {
    if (this.writes.length === 0 && select === undefined) return undefined;
    const sql =
      this.writes.length === 1 && select === undefined
        ? this.writes[0]
        : `${this.writes.length > 0 ? `with ${this.writes.map((w, i) => `w${i} as (${w})`).join(', ')} ` : ''}select ${select ?? '1'}`;
    return { sql, params: this.params };
  }
}
