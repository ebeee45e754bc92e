/**
 * Many byte strings as one parameter: `bytes` is them concatenated, and `starts` / `lengths` (1-based,
 * as SQL's substring counts) say where each lies. An array of bytea goes to the database as text
 * (each value in hex, quoted, escaped, measured and parsed back), while one bytea goes as the bytes
 * themselves on both engines; the statement then cuts the values out with
 * `substring(bytes from start for length)`, a copy of each value and nothing else. Measured on the
 * audit log's appends (docs/benchmarks.md).
 */
export interface PackedBytes {
  bytes: Buffer;
  starts: number[];
  lengths: number[];
}

export function packBytes(values: Buffer[]): PackedBytes {
  const starts = new Array<number>(values.length);
  const lengths = new Array<number>(values.length);
  let at = 1;
  values.forEach((v, i) => {
    starts[i] = at;
    lengths[i] = v.length;
    at += v.length;
  });
  return { bytes: Buffer.concat(values), starts, lengths };
}
