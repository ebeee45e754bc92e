/**
 * Reads PostgreSQL's binary COPY format (what Database.copyOut returns): a fixed header, then per
 * row a field count and each field as a 4-byte length and its bytes, then a trailer (-1).
 * Written here because it is twenty lines of a documented format
 * (https://www.postgresql.org/docs/current/sql-copy.html, "Binary Format") and both engines share it.
 */
const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');

/** Calls `row` with each row's field offsets: [start, end) pairs into `buf`, -1 for a null field. */
export function eachCopyRow(buf: Buffer, row: (fields: Int32Array) => void): number {
  if (buf.length < 19 || !buf.subarray(0, 11).equals(SIGNATURE)) throw new Error('not PostgreSQL binary COPY data');
  let off = 19 + buf.readUInt32BE(15);
  let fields = new Int32Array(0);
  let rows = 0;
  for (;;) {
    const count = buf.readInt16BE(off);
    off += 2;
    if (count === -1) return rows;
    if (fields.length !== count * 2) fields = new Int32Array(count * 2);
    for (let i = 0; i < count; i++) {
      const len = buf.readInt32BE(off);
      off += 4;
      if (len < 0) {
        fields[2 * i] = -1;
        fields[2 * i + 1] = -1;
      } else {
        fields[2 * i] = off;
        fields[2 * i + 1] = off + len;
        off += len;
      }
    }
    row(fields);
    rows++;
  }
}

/** A bigint (int8) field as a number (leaf indexes stay far below 2^53). */
export function readInt8(buf: Buffer, at: number): number {
  return buf.readInt32BE(at) * 2 ** 32 + buf.readUInt32BE(at + 4);
}
