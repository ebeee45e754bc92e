/**
 * Tables people sort by clicking a column's heading: once ascending, again descending. The heading
 * is a button (reachable by keyboard) and says its order to screen readers (aria-sort). Sorting is
 * of the rows on the page; a table paged by the server keeps the server's order choice instead.
 */
import { useState } from 'react';

export type SortValue = string | number | null | undefined;

export interface Column<T> {
  label: string;
  /** What the column sorts by; a column without it does not sort (actions, notes). */
  sortBy?: (row: T) => SortValue;
  /** The heading's class (e.g. no-print for a column the printed copy leaves out). */
  className?: string;
}

type Order = { column: number; direction: 'ascending' | 'descending' };

const isEmpty = (v: SortValue) => v === null || v === undefined || v === '';

/** Empty values last; numbers as numbers; text as people read it (item 2 before item 10). */
export function compareValues(a: SortValue, b: SortValue): number {
  if (isEmpty(a) || isEmpty(b)) return isEmpty(a) === isEmpty(b) ? 0 : isEmpty(a) ? 1 : -1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a).localeCompare(String(b), undefined, { numeric: true, sensitivity: 'base' });
}

export function useSortable<T>(rows: readonly T[] | undefined, columns: Array<Column<T>>) {
  const [order, setOrder] = useState<Order | null>(null);
  const sortBy = order ? columns[order.column]?.sortBy : undefined;
  const sorted = [...(rows ?? [])];
  if (order && sortBy) {
    const sign = order.direction === 'ascending' ? 1 : -1;
    sorted.sort((a, b) => {
      const va = sortBy(a);
      const vb = sortBy(b);
      // Empty values stay last in both directions: only the others' order turns.
      return isEmpty(va) || isEmpty(vb) ? compareValues(va, vb) : sign * compareValues(va, vb);
    });
  }
  const heads = (
    <thead>
      <tr>
        {columns.map((c, i) => {
          const current = order?.column === i ? order.direction : undefined;
          return (
            <th scope="col" key={i} className={c.className} aria-sort={c.sortBy ? (current ?? 'none') : undefined}>
              {c.sortBy ? (
                <button type="button" className="sort" onClick={() => setOrder({ column: i, direction: current === 'ascending' ? 'descending' : 'ascending' })}>
                  {c.label}
                  <span aria-hidden="true">{current === 'ascending' ? ' ▲' : current === 'descending' ? ' ▼' : ' ↕'}</span>
                </button>
              ) : (
                c.label || <span className="sr-only">Actions</span>
              )}
            </th>
          );
        })}
      </tr>
    </thead>
  );
  return { rows: sorted, heads };
}
