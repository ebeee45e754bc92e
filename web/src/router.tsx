/** A router of a few lines: the path is the state, links push it, the back button pops it. */
import { useEffect, useState, type ReactNode, type MouseEvent } from 'react';

const listeners = new Set<() => void>();
export function navigate(to: string): void {
  history.pushState(null, '', to);
  listeners.forEach((l) => l());
}
export function usePath(): string {
  const [path, setPath] = useState(location.pathname);
  useEffect(() => {
    const update = () => setPath(location.pathname);
    listeners.add(update);
    window.addEventListener('popstate', update);
    return () => {
      listeners.delete(update);
      window.removeEventListener('popstate', update);
    };
  }, []);
  return path;
}
export function Link({ to, children, className }: { to: string; children: ReactNode; className?: string }) {
  const click = (e: MouseEvent) => {
    if (e.metaKey || e.ctrlKey || e.shiftKey || e.button !== 0) return;
    e.preventDefault();
    navigate(to);
  };
  const current = location.pathname === to || (to !== '/' && location.pathname.startsWith(`${to}/`));
  return (
    <a href={to} onClick={click} className={className} aria-current={current ? 'page' : undefined}>
      {children}
    </a>
  );
}
