/** A bind function for `params`: each value appended, its placeholder ($n) returned. */
export function bindTo(params: unknown[]): (v: unknown) => string {
  return (v) => {
    params.push(v);
    return `$${params.length}`;
  };
}
