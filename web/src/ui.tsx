/** Small shared pieces: loading and error states, a pager, a dialog, a date. */
import { useEffect, useRef, useState, type ReactNode } from 'react';
import { ApiError } from './api';

export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): { data?: T; error?: ApiError | Error; loading: boolean; reload: () => void } {
  const [state, setState] = useState<{ data?: T; error?: ApiError | Error; loading: boolean }>({ loading: true });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    load().then(
      (data) => live && setState({ data, loading: false }),
      (error: Error) => live && setState({ error, loading: false }),
    );
    return () => {
      live = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, tick]);
  return { ...state, reload: () => setTick((t) => t + 1) };
}

/**
 * A button's action against the server: `busy` while it runs (to disable the button and say so),
 * then its result or its error, whichever the last run gave.
 */
export function useAction<T>(action: () => Promise<T>): { run: () => Promise<void>; busy: boolean; result?: T; error?: Error } {
  const [state, setState] = useState<{ busy: boolean; result?: T; error?: Error }>({ busy: false });
  const run = async () => {
    setState({ busy: true });
    try {
      setState({ busy: false, result: await action() });
    } catch (err) {
      setState({ busy: false, error: err as Error });
    }
  };
  return { run, ...state };
}

/** A failure, said where it happened: an error from the server or a message of the screen's own. */
export function ErrorNote({ error }: { error?: Error | string | null }) {
  if (!error) return null;
  return (
    <p role="alert" className="error">
      {typeof error === 'string' ? error : error.message}
    </p>
  );
}

export function Loading({ when }: { when: boolean }) {
  return when ? (
    <p className="muted" aria-live="polite">
      Loading…
    </p>
  ) : null;
}

/** A table's column headings; an empty one is the column of a row's buttons, named for screen readers. */
export function Heads({ cols }: { cols: string[] }) {
  return (
    <thead>
      <tr>
        {cols.map((c, i) => (
          <th scope="col" key={i}>
            {c || <span className="sr-only">Actions</span>}
          </th>
        ))}
      </tr>
    </thead>
  );
}

/**
 * "Patients 21–40 of 116" between Previous and Next: where one is, in words. Nothing when there is
 * nothing to page through (the table's own empty state says so).
 */
export function Pager({
  what,
  offset,
  count,
  total,
  onChange,
}: {
  what: string;
  offset: number;
  count: number;
  total: number;
  onChange: (offset: number) => void;
}) {
  if (total === 0) return null;
  const last = Math.min(total, offset + count);
  return (
    <nav className="pager" aria-label={`pages of ${what.toLowerCase()}`}>
      <button type="button" disabled={offset === 0} onClick={() => onChange(Math.max(0, offset - count))}>
        Previous
      </button>
      <span aria-live="polite">{`${what} ${offset + 1}–${last} of ${total}`}</span>
      <button type="button" disabled={last >= total} onClick={() => onChange(offset + count)}>
        Next
      </button>
    </nav>
  );
}

/** A modal dialog on the native <dialog> element: focus moves in, Escape closes it. */
export function Dialog({ title, open, onClose, children }: { title: string; open: boolean; onClose: () => void; children: ReactNode }) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (open && !d.open) d.showModal();
    if (!open && d.open) d.close();
  }, [open]);
  return (
    <dialog ref={ref} onClose={onClose} aria-labelledby="dialog-title">
      <h2 id="dialog-title">{title}</h2>
      {open ? children : null}
    </dialog>
  );
}

export const when = (iso?: string | null) => (iso ? new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' }) : '—');
export const day = (iso?: string | null) => (iso ? new Date(iso).toLocaleDateString(undefined, { dateStyle: 'medium' }) : '—');

export function Countdown({ until, onEnd }: { until: string; onEnd?: () => void }) {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, []);
  const left = Math.max(0, new Date(until).getTime() - now);
  useEffect(() => {
    if (left === 0) onEnd?.();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [left === 0]);
  const m = Math.floor(left / 60000);
  const s = Math.floor((left % 60000) / 1000);
  return (
    <span className="countdown" role="timer" aria-live="off">
      {m}:{String(s).padStart(2, '0')}
    </span>
  );
}
