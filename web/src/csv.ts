/** CSV for the console's downloads (RFC 4180), safe to open in a spreadsheet. */

/**
 * A cell: quoted, quotes doubled, and a value that a spreadsheet would read as a formula (a leading
 * =, +, -, @, tab or carriage return) neutralised with an apostrophe, so opening the file never runs it.
 */
export function csvCell(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return `"${safe.replace(/"/g, '""')}"`;
}

/** Rows of cells as one CSV text, CRLF line ends. */
export function csvText(rows: string[][]): string {
  return rows.map((r) => r.map(csvCell).join(',')).join('\r\n') + '\r\n';
}
