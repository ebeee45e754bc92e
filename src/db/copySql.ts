const IDENT = /^[a-z_][a-z0-9_]*$/;

/** The COPY statement that loads binary rows into `table (columns)` (both engines' copyIn). */
export function copyInSql(table: string, columns: string[], source: string): string {
  // Table and column names come from the backup's manifest: only plain identifiers are accepted.
  if (!IDENT.test(table) || columns.some((c) => !IDENT.test(c))) throw new Error('copyIn: table and column names must be plain identifiers');
  return `copy ${table} (${columns.join(', ')}) from ${source} with (format binary)`;
}
