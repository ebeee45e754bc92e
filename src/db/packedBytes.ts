/**
 * Many byte strings as one parameter: `bytes` is them concatenated, and `starts` / `lengths` (1-based,
 * as SQL's substring counts) say where each lies. An array of bytea goes to the database as text
 * (each value in hex, quoted, escaped, measured and parsed back), while one bytea goes as the bytes
 * themselves on both engines; the statement then cuts the values out with
 * `substring(bytes from start for length)`, a copy of each value and nothing else. Measured on the
 * audit log's appends (docs/benchmarks.md).
 */
interface PackedBytes {
  bytes: Buffer;
  starts: number[];
  lengths: number[];
}

function packBytes(values: Buffer[]): PackedBytes {
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

/**
 * `values` bound packed, as SQL for a statement that unnests them: `unnest` is the two unnest
 * arguments (starts, lengths), to be named `s` and `l` in the unnest's column list, and `value` is
 * the expression giving each row's value. For example
 * `select k, ${p.value} from unnest(${keys}::bigint[], ${p.unnest}) as x(k, s, l)`.
 */
export function bindPacked(bind: (v: unknown) => string, values: Buffer[]): { unnest: string; value: string } {
  const packed = packBytes(values);
  return {
    unnest: `${bind(packed.starts)}::int4[], ${bind(packed.lengths)}::int4[]`,
    value: `substring(${bind(packed.bytes)}::bytea from s for l)`,
  };
}
