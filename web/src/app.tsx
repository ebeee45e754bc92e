/**
 * The console: sign-in, then the screens of the caller's roles. The session ends visibly when the
 * server's idle limit passes without activity (the server ends it then too), or on sign-out.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { Me } from '../../src/api/index.js';
import { activity, get, hasToken, send, setToken, whenUnauthorized } from './api';
import { Link, navigate, usePath } from './router';
import { Login } from './screens/login';
import { MyPatients } from './screens/patients';
import { Chart } from './screens/chart';
import { ReviewQueue, AccessReport, LogHealth } from './screens/privacy';
import { PrivacyOverview } from './screens/privacyOverview';
import { AdminOverview } from './screens/adminOverview';
import { AuditSearch } from './screens/auditSearch';
import { Cases } from './screens/cases';
import { NotificationBell, Notifications } from './screens/notifications';
import { ChangePassword } from './screens/password';
import { Staff, TeamsAndWards } from './screens/admin';
import { Explain } from './screens/explain';
import { FileShares } from './screens/guard';
import { Releases } from './screens/equipment';
import { EquipmentClasses } from './screens/equipmentAdmin';
import { Fleet } from './screens/fleet';
import { Rollouts } from './screens/rollouts';
import { Campaigns } from './screens/awarenessCampaigns';
import { Results } from './screens/awarenessResults';
import { Lessons } from './screens/awarenessLessons';
import { ReportedMail } from './screens/awarenessTriage';
import { MyAwareness } from './screens/awarenessMine';
import { Posture } from './screens/posture';
import { PosturePractice } from './screens/posturePractice';
import { roleHolders, rolesInWords } from './people';

const CLINICAL = ['physician', 'nurse', 'receptionist', 'lab', 'billing'];
/** Every role: staff awareness (one's own history, reporting, lessons) is for everyone signed in. */
const EVERYONE = [...CLINICAL, 'biomedical-engineer', 'privacy-officer', 'security-admin', 'awareness-officer', 'admin'];
const AWARENESS_FIGURES = ['awareness-officer', 'admin', 'security-admin'];
/** The posture scorecard's readers (src/posture/service.ts READERS). */
const POSTURE = ['admin', 'privacy-officer', 'security-admin'];

interface Section {
  to: string;
  label: string;
  roles: string[];
  /** Reached from the header (with its count), not the section list. */
  inHeader?: boolean;
}
const SECTIONS: Section[] = [
  { to: '/patients', label: 'My patients', roles: CLINICAL },
  { to: '/privacy/overview', label: 'Privacy overview', roles: ['privacy-officer'] },
  { to: '/privacy/break-glass', label: 'Break-the-glass review', roles: ['privacy-officer'] },
  { to: '/privacy/cases', label: 'Alerts and cases', roles: ['privacy-officer'] },
  { to: '/privacy/audit', label: 'Audit search', roles: ['privacy-officer'] },
  { to: '/privacy/access-report', label: 'Access report', roles: ['privacy-officer'] },
  { to: '/notifications', label: 'Notifications', roles: ['privacy-officer'], inHeader: true },
  { to: '/account/password', label: 'Change password', roles: EVERYONE, inHeader: true },
  { to: '/privacy/log-health', label: 'Audit log health', roles: ['privacy-officer', 'security-admin'] },
  { to: '/admin/overview', label: 'Clinic overview', roles: ['admin'] },
  { to: '/admin/staff', label: 'Staff accounts', roles: ['admin'] },
  { to: '/admin/teams', label: 'Teams and wards', roles: ['admin'] },
  { to: '/admin/explain', label: 'Explain access', roles: ['admin', 'privacy-officer'] },
  { to: '/security/shares', label: 'File shares', roles: ['security-admin', 'privacy-officer', 'admin'] },
  { to: '/equipment', label: 'Equipment', roles: ['biomedical-engineer', 'security-admin'] },
  { to: '/equipment/releases', label: 'Equipment releases', roles: ['biomedical-engineer', 'security-admin'] },
  { to: '/equipment/rollouts', label: 'Rollouts', roles: ['biomedical-engineer', 'security-admin'] },
  { to: '/equipment/classes', label: 'Equipment classes', roles: ['admin', 'security-admin'] },
  { to: '/awareness/campaigns', label: 'Phishing campaigns', roles: AWARENESS_FIGURES },
  { to: '/awareness/results', label: 'Awareness results', roles: AWARENESS_FIGURES },
  { to: '/awareness/reported', label: 'Reported mail', roles: ['security-admin', 'awareness-officer'] },
  { to: '/posture', label: 'Posture', roles: POSTURE },
  { to: '/awareness/me', label: 'My awareness', roles: EVERYONE },
  { to: '/awareness/lessons', label: 'Lessons', roles: EVERYONE },
];

/**
 * Where each role lands after signing in: the screen of its daily work. Someone with several roles
 * lands on the first of theirs in this order (a clinician's patients before anything else).
 */
const HOME: Array<[string, string]> = [
  ['physician', '/patients'],
  ['nurse', '/patients'],
  ['receptionist', '/patients'],
  ['lab', '/patients'],
  ['billing', '/patients'],
  ['privacy-officer', '/privacy/break-glass'],
  ['biomedical-engineer', '/equipment'],
  ['security-admin', '/posture'],
  ['awareness-officer', '/awareness/campaigns'],
  ['admin', '/admin/staff'],
];
const homeOf = (roles: string[]) => HOME.find(([role]) => roles.includes(role))?.[1] ?? '/awareness/me';

export function App() {
  const [me, setMe] = useState<Me | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const path = usePath();
  const moved = useRef(false);
  useEffect(() => {
    if (!me) return;
    document.title = `${titleOf(path)} · Carewall`;
    // After a move within the console, focus goes to the new page's content, as a page load would
    // put it: someone on a keyboard or a screen reader starts there, not on the link they left.
    if (moved.current) document.getElementById('main')?.focus();
    moved.current = true;
  }, [path, me]);

  const signOut = useCallback(async (why: string | null) => {
    if (why === null) await send('/api/session', { method: 'DELETE' }).catch(() => undefined);
    setToken(null);
    setMe(null);
    setNotice(why);
    navigate('/');
  }, []);

  useEffect(() => {
    whenUnauthorized(() => {
      setMe(null);
      setNotice('Your session has ended. Please sign in again.');
    });
    if (hasToken()) get(Me, '/api/me').then(setMe, () => setToken(null));
  }, []);

  if (!me) {
    return (
      <Login
        notice={notice}
        onSignedIn={(m) => {
          setNotice(null);
          setMe(m);
          if (location.pathname === '/' || location.pathname === '') navigate(homeOf(m.roles));
        }}
      />
    );
  }
  const mine = SECTIONS.filter((s) => !s.inHeader && s.roles.some((r) => me.roles.includes(r)));
  return (
    <div className="shell">
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="top">
        <span className="brand">Carewall</span>
        <nav aria-label="sections">
          <ul>
            {mine.map((s) => (
              <li key={s.to}>
                <Link to={s.to}>{s.label}</Link>
              </li>
            ))}
          </ul>
        </nav>
        <div className="who">
          {me.roles.includes('privacy-officer') ? <NotificationBell path={path} /> : null}
          <span>
            {me.name}{' '}
            <span className="muted">
              ({me.name === me.username ? '' : `${me.username}, `}
              {rolesInWords(me.roles)})
            </span>
          </span>
          <Link to="/account/password">Change password</Link>
          <IdleTimer minutes={me.idleMinutes} onIdle={() => void signOut(`You were signed out after ${me.idleMinutes} minutes without activity.`)} />
          <button type="button" onClick={() => void signOut(null)}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        <Screen path={path} me={me} first={homeOf(me.roles)} />
      </main>
    </div>
  );
}

/** The window's title for a page: its section's name, or what a detail page shows. */
function titleOf(path: string): string {
  if (/^\/patients\/./.test(path)) return 'Patient chart';
  if (/^\/privacy\/cases\/./.test(path)) return 'Case';
  if (/^\/awareness\/lessons\/./.test(path)) return 'Lesson';
  if (/^\/awareness\/results\/./.test(path)) return 'Campaign results';
  if (/^\/posture\/practices\/./.test(path)) return 'Posture practice';
  return sectionOf(path)?.label ?? 'Not found';
}

/** The section a path belongs to (the longest match: /equipment/releases, not /equipment). */
const sectionOf = (path: string) => SECTIONS.filter((s) => path === s.to || path.startsWith(`${s.to}/`)).sort((a, b) => b.to.length - a.to.length)[0];

function Screen({ path, me, first }: { path: string; me: Me; first?: string }) {
  const chart = /^\/patients\/([A-Za-z0-9\-.]+)$/.exec(path);
  // A chart says itself why it is refused and offers break-the-glass where the rules allow it.
  if (chart) return <Chart id={chart[1]} me={me} />;
  const section = sectionOf(path);
  if (section && !section.roles.some((r) => me.roles.includes(r))) return <NotForYourRole section={section} />;
  const caseMatch = /^\/privacy\/cases\/([A-Za-z0-9\-.]+)$/.exec(path);
  if (caseMatch) return <Cases caseId={caseMatch[1]} />;
  const results = /^\/awareness\/results\/([A-Za-z0-9-]+)$/.exec(path);
  if (results) return <Results campaignId={results[1]} seesNames={me.roles.includes('awareness-officer')} />;
  const lesson = /^\/awareness\/lessons\/([a-z0-9-]+)$/.exec(path);
  if (lesson) return <Lessons lessonId={lesson[1]} />;
  const practice = /^\/posture\/practices\/(hicp-[0-9]+)$/.exec(path);
  if (practice) return <PosturePractice id={practice[1]} username={me.username} />;
  switch (path) {
    case '/posture':
      return <Posture />;
    case '/awareness/campaigns':
      return <Campaigns canManage={me.roles.includes('awareness-officer')} />;
    case '/awareness/results':
      return <Results seesNames={me.roles.includes('awareness-officer')} />;
    case '/awareness/reported':
      return <ReportedMail canSearchMailboxes={me.roles.includes('security-admin')} />;
    case '/awareness/me':
      return <MyAwareness />;
    case '/account/password':
      return <ChangePassword />;
    case '/awareness/lessons':
      return <Lessons />;
    case '/patients':
      return <MyPatients clinician={me.roles.some((r) => r === 'physician' || r === 'nurse')} />;
    case '/privacy/overview':
      return <PrivacyOverview />;
    case '/admin/overview':
      return <AdminOverview />;
    case '/privacy/break-glass':
      return <ReviewQueue />;
    case '/privacy/cases':
      return <Cases />;
    case '/notifications':
      return <Notifications />;
    case '/privacy/audit':
      return <AuditSearch />;
    case '/privacy/access-report':
      return <AccessReport />;
    case '/privacy/log-health':
      return <LogHealth />;
    case '/security/shares':
      return <FileShares canRelease={me.roles.some((r) => r === 'security-admin' || r === 'admin')} />;
    case '/equipment':
      return <Fleet canDecide={me.roles.includes('biomedical-engineer')} />;
    case '/equipment/rollouts':
      return <Rollouts canAct={me.roles.includes('biomedical-engineer')} />;
    case '/equipment/classes':
      return <EquipmentClasses />;
    case '/equipment/releases':
      return <Releases me={me.username} />;
    case '/admin/staff':
      return <Staff />;
    case '/admin/teams':
      return <TeamsAndWards />;
    case '/admin/explain':
      return <Explain canFindPatients={me.roles.includes('privacy-officer')} />;
    default:
      if (first && path === '/') {
        navigate(first);
        return null;
      }
      return (
        <section>
          <h1>Not found</h1>
          <p>There is no such page. Use the sections above.</p>
        </section>
      );
  }
}

/** A page of another role's work: said at once, before any form that would only be refused. */
function NotForYourRole({ section }: { section: Section }) {
  const who = section.roles.map(roleHolders);
  const listed = who.length > 1 ? `${who.slice(0, -1).join(', ')} and ${who[who.length - 1]}` : who[0];
  return (
    <section>
      <h1>Not for your role</h1>
      <p>
        {section.label} is for {listed}. Your own work is in the sections above; ask an administrator if you need this.
      </p>
    </section>
  );
}

/** Shows the time left before the idle limit; every request to the server resets it. */
function IdleTimer({ minutes, onIdle }: { minutes: number; onIdle: () => void }) {
  const [left, setLeft] = useState(minutes * 60);
  useEffect(() => {
    const bump = () => (activity.last = Date.now());
    window.addEventListener('keydown', bump);
    window.addEventListener('pointerdown', bump);
    const t = setInterval(() => {
      const remaining = Math.round(minutes * 60 - (Date.now() - activity.last) / 1000);
      setLeft(remaining);
      if (remaining <= 0) onIdle();
    }, 1000);
    return () => {
      clearInterval(t);
      window.removeEventListener('keydown', bump);
      window.removeEventListener('pointerdown', bump);
    };
  }, [minutes, onIdle]);
  const warn = left <= 60;
  return (
    <span className={warn ? 'idle warn' : 'idle'} aria-live={warn ? 'assertive' : 'off'}>
      {warn ? `Signing out in ${Math.max(0, left)} s` : `Session: ${Math.ceil(left / 60)} min`}
    </span>
  );
}
