/**
 * Notifications for privacy officers (break-the-glass, alarms, alerts): the list, newest first, and
 * the unread count in the header. Opening the list marks what it shows as read for this officer only.
 */
import { useEffect, useState } from 'react';
import { NotificationList } from '../../../src/api/index.js';
import { get, send } from '../api';
import { Link } from '../router';
import { ErrorNote, Loading, useLoad, when } from '../ui';

/** What each kind of notification is about, in words. */
const KINDS: Record<string, string> = {
  'break-glass': 'Break-the-glass',
  investigation: 'Investigation',
  'monitor-alert': 'Misuse alert',
  'ransomware-alarm': 'Ransomware alarm',
  'mass-change': 'Mass change in a backup',
  'practitioner-binding': 'Account acting as a practitioner',
  'equipment-advisory': 'Equipment advisory',
  'equipment-release': 'Equipment release',
  'equipment-rollout': 'Equipment rollout',
  'reported-phishing': 'Reported phishing',
};
const kindInWords = (kind: string) => KINDS[kind] ?? kind.replace(/-/g, ' ').replace(/^./, (c) => c.toUpperCase());

/** The header's link: "Notifications (3 new)", fetched again on every page change, never polled (a poll would keep an idle session alive). */
export function NotificationBell({ path }: { path: string }) {
  const [unread, setUnread] = useState<number | null>(null);
  useEffect(() => {
    get(NotificationList, '/api/notifications').then(
      (n) => setUnread(n.unread),
      () => setUnread(null),
    );
  }, [path]);
  const label = unread ? `Notifications (${unread} new)` : 'Notifications';
  return (
    <Link to="/notifications" className={unread ? 'bell unread' : 'bell'}>
      {label}
    </Link>
  );
}

export function Notifications() {
  const list = useLoad(() => get(NotificationList, '/api/notifications'), []);
  const [error, setError] = useState<string | null>(null);
  const newest = list.data?.notifications[0];
  const unreadNewest = newest && !newest.read ? newest.id : undefined;
  useEffect(() => {
    // Shown, so read: up to the newest this page shows (what arrives meanwhile stays new).
    if (unreadNewest) send('/api/notifications/read', { body: { upTo: unreadNewest } }).catch((err: Error) => setError(err.message));
  }, [unreadNewest]);
  return (
    <section>
      <h1>Notifications</h1>
      <ErrorNote error={error} />
      <Loading when={list.loading && !list.data} />
      <ErrorNote error={list.error} />
      {list.data && list.data.notifications.length === 0 ? <p className="muted">Nothing has happened that needs you.</p> : null}
      <ol className="timeline">
        {(list.data?.notifications ?? []).map((n) => (
          <li key={n.id}>
            <strong>{when(n.at)}</strong> {kindInWords(n.kind)}: {n.message}
            {n.read ? null : <span className="badge"> new</span>}
          </li>
        ))}
      </ol>
    </section>
  );
}
