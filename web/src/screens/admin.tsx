import type { Location, Organization, Practitioner, PractitionerRole } from '@medplum/fhirtypes';
import QRCode from 'qrcode';
import { useEffect, useState } from 'react';
import { AccountCreated, AccountList, PASSWORD_MIN, SecondFactorReset, type NewAccountBody } from '../../../src/api/index.js';
import { fhirCreate, fhirSearch, get, nameOf, post, send } from '../api';
import { rolesInWords } from '../people';
import { useSortable } from '../sortable';
import { useStaff } from '../staff';
import { ErrorNote, Heads, Loading, useLoad, when } from '../ui';

const ROLES = [
  'physician',
  'nurse',
  'receptionist',
  'billing',
  'lab',
  'biomedical-engineer',
  'privacy-officer',
  'security-admin',
  'awareness-officer',
  'admin',
];

/** The otpauth URI as a QR code to scan, and as text for typing in. */
function Enrolment({ username, uri }: { username: string; uri: string }) {
  const [img, setImg] = useState<string | null>(null);
  useEffect(() => {
    void QRCode.toDataURL(uri, { margin: 1, width: 180 }).then(setImg);
  }, [uri]);
  return (
    <div className="card enrol" role="status">
      <h3>Second factor for {username}</h3>
      <p>Have {username} scan this with an authenticator app now; it is shown only once.</p>
      {img ? <img src={img} alt={`QR code of the authenticator secret for ${username}`} width={180} height={180} /> : null}
      <p className="mono break">{uri}</p>
    </div>
  );
}

/** Roles that see patients through care relationships, which name practitioners, not accounts. */
const CARE_ROLES = ['physician', 'nurse', 'lab'];
export function Staff() {
  const { data, error, loading, reload } = useLoad(() => get(AccountList, '/api/users'), []);
  type Account = AccountList['users'][number];
  const status = (u: Account) => (u.disabled ? 'disabled' : u.lockedUntil ? 'locked' : 'active');
  // People by name (the directory's: their practitioner's written name), the user name beside it.
  const staff = useStaff([data]);
  // The user name is its own column: the name column never repeats it (an account linked to no
  // practitioner, or one added a moment ago before the directory is read again, shows a dash).
  const personOf = (u: Account) => {
    const name = staff.find((p) => p.username === u.username)?.name;
    return name && name !== u.username ? name : undefined;
  };
  const staffTable = useSortable<Account>(data?.users, [
    { label: 'Name', sortBy: personOf },
    { label: 'Username', sortBy: (u) => u.username },
    { label: 'Roles', sortBy: (u) => u.roles.join(', ') },
    { label: 'Second factor', sortBy: (u) => (u.totpRequired ? 'required' : 'optional') },
    { label: 'Status', sortBy: status },
    { label: 'Last sign-in', sortBy: (u) => u.lastLoginAt },
    { label: '' },
  ]);
  const [form, setForm] = useState({ family: '', given: '', username: '', password: '', roles: [] as string[], requireTotp: true });
  const [created, setCreated] = useState<{ username: string; uri?: string } | null>(null);
  const [formError, setFormError] = useState<string | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);

  const create = async () => {
    setFormError(null);
    try {
      const practitioner = await fhirCreate('Practitioner', {
        resourceType: 'Practitioner',
        active: true,
        name: [{ family: form.family, given: form.given ? [form.given] : [] }],
      });
      const account = await post(AccountCreated, '/api/users', {
        username: form.username,
        password: form.password,
        roles: form.roles,
        practitioner: `Practitioner/${practitioner.id}`,
        requireTotp: form.requireTotp,
      } satisfies NewAccountBody);
      setCreated({ username: account.username, uri: account.totpUri });
      setForm({ family: '', given: '', username: '', password: '', roles: [], requireTotp: true });
      reload();
    } catch (err) {
      setFormError((err as Error).message);
    }
  };
  const userPath = (username: string, what: string) => `/api/users/${encodeURIComponent(username)}/${what}`;
  const act = async (action: () => Promise<void>) => {
    setActionError(null);
    try {
      await action();
      reload();
    } catch (err) {
      setActionError((err as Error).message);
    }
  };
  return (
    <section>
      <h1>Staff accounts</h1>
      <form
        className="card"
        aria-labelledby="new-user"
        onSubmit={(e) => {
          e.preventDefault();
          void create();
        }}
      >
        <h2 id="new-user">Add a staff member</h2>
        <div className="row">
          <label>
            Given name
            <input value={form.given} onChange={(e) => setForm({ ...form, given: e.target.value })} required />
          </label>
          <label>
            Family name
            <input value={form.family} onChange={(e) => setForm({ ...form, family: e.target.value })} required />
          </label>
          <label>
            Username
            <input value={form.username} onChange={(e) => setForm({ ...form, username: e.target.value })} required autoComplete="off" />
          </label>
          <label>
            Initial password (at least {PASSWORD_MIN} characters)
            <input
              type="password"
              value={form.password}
              onChange={(e) => setForm({ ...form, password: e.target.value })}
              required
              autoComplete="new-password"
              minLength={PASSWORD_MIN}
            />
          </label>
        </div>
        <fieldset>
          <legend>Roles</legend>
          {ROLES.map((r) => (
            <label key={r} className="check">
              <input
                type="checkbox"
                checked={form.roles.includes(r)}
                onChange={(e) => setForm({ ...form, roles: e.target.checked ? [...form.roles, r] : form.roles.filter((x) => x !== r) })}
              />
              {rolesInWords([r])}
            </label>
          ))}
        </fieldset>
        <label className="check">
          <input type="checkbox" checked={form.requireTotp} onChange={(e) => setForm({ ...form, requireTotp: e.target.checked })} />
          Require a second factor (always required for privacy, security and admin roles)
        </label>
        <ErrorNote error={formError} />
        <button type="submit" className="primary">
          Add staff member
        </button>
      </form>
      {created?.uri ? <Enrolment username={created.username} uri={created.uri} /> : created ? <p role="status">Account {created.username} created.</p> : null}
      <ErrorNote error={error} />
      <ErrorNote error={actionError} />
      <Loading when={loading && !data} />
      {data ? (
        <table>
          <caption className="sr-only">Staff accounts</caption>
          {staffTable.heads}
          <tbody>
            {staffTable.rows.map((u) => (
              <tr key={u.id}>
                <td>{personOf(u) ?? '—'}</td>
                <td>{u.username}</td>
                <td>{rolesInWords(u.roles)}</td>
                <td>{u.totpRequired ? 'required' : 'optional'}</td>
                <td>
                  {u.disabled ? 'disabled' : u.lockedUntil ? `locked until ${when(u.lockedUntil)}` : 'active'}
                  {u.pendingPractitioner ? (
                    <span className="muted"> · waits for a second person to approve acting as a practitioner another account acted as</span>
                  ) : null}
                  {!u.practitioner && !u.pendingPractitioner && u.roles.some((r) => CARE_ROLES.includes(r)) ? (
                    <span className="warning"> · not linked to a practitioner: no care relationship can name this account, so it sees no patients</span>
                  ) : null}
                </td>
                <td>{when(u.lastLoginAt)}</td>
                <td className="actions">
                  {u.pendingPractitioner ? (
                    <>
                      <button
                        type="button"
                        onClick={() =>
                          window.confirm(`Let ${u.username} act as the practitioner it asked for, and see that practitioner's patients?`) &&
                          void act(() => send(userPath(u.username, 'practitioner/approve')))
                        }
                        aria-label={`approve ${u.username} acting as the practitioner`}
                      >
                        Approve
                      </button>
                      <button
                        type="button"
                        onClick={() => void act(() => send(userPath(u.username, 'practitioner/reject')))}
                        aria-label={`reject ${u.username} acting as the practitioner`}
                      >
                        Reject
                      </button>
                    </>
                  ) : null}
                  <button
                    type="button"
                    onClick={() =>
                      window.confirm(
                        `Reset ${u.username}'s second factor? A new authenticator secret is made now: the old one stops working, ${u.username} is signed out everywhere, and must enrol the new code shown here before signing in again.`,
                      ) &&
                      void act(async () => {
                        const r = await post(SecondFactorReset, userPath(u.username, 'second-factor'));
                        setCreated({ username: r.username, uri: r.totpUri });
                      })
                    }
                    disabled={u.disabled}
                    aria-label={`reset second factor of ${u.username}`}
                  >
                    Reset second factor
                  </button>
                  {u.disabled ? (
                    <button
                      type="button"
                      onClick={() =>
                        window.confirm(`Enable ${u.username} again? They can sign in at once with their password and second factor; this is recorded.`) &&
                        void act(() => send(userPath(u.username, 'enable')))
                      }
                      aria-label={`enable ${u.username} again`}
                    >
                      Enable again
                    </button>
                  ) : (
                    <button
                      type="button"
                      className="danger"
                      onClick={() =>
                        window.confirm(`Disable ${u.username}? They are signed out everywhere and cannot sign in until enabled again.`) &&
                        void act(() => send(userPath(u.username, 'disable')))
                      }
                      aria-label={`disable ${u.username}`}
                    >
                      Disable
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </section>
  );
}

type Named = Practitioner | Organization | Location;
const display = (n?: Named) => (!n ? '—' : typeof n.name === 'string' ? n.name : Array.isArray(n.name) ? nameOf(n.name) : (n.id ?? '—'));

/**
 * Which team (department) and ward each staff member works in: a PractitionerRole each. A ward
 * assignment gives access to the patients admitted there, a team to its patients' care teams.
 */
export function TeamsAndWards() {
  const all = useLoad(async () => {
    const [people, orgs, places, roles] = await Promise.all([
      fhirSearch('Practitioner', '/fhir/Practitioner?_count=500'),
      fhirSearch('Organization', '/fhir/Organization?_count=200'),
      fhirSearch('Location', '/fhir/Location?_count=200'),
      fhirSearch('PractitionerRole', '/fhir/PractitionerRole?_count=500'),
    ]);
    return { people: people.resources, orgs: orgs.resources, places: places.resources, roles: roles.resources };
  }, []);
  const [form, setForm] = useState({ practitioner: '', organization: '', location: '' });
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  if (all.loading && !all.data) return <Loading when />;
  if (all.error) return <ErrorNote error={all.error} />;
  const d = all.data!;
  const byRef = new Map<string, Named>([
    ...d.people.map((p) => [`Practitioner/${p.id}`, p] as const),
    ...d.orgs.map((o) => [`Organization/${o.id}`, o] as const),
    ...d.places.map((l) => [`Location/${l.id}`, l] as const),
  ]);
  const assign = async () => {
    setError(null);
    setDone(null);
    try {
      await fhirCreate('PractitionerRole', {
        resourceType: 'PractitionerRole',
        active: true,
        practitioner: { reference: form.practitioner },
        ...(form.organization ? { organization: { reference: form.organization } } : {}),
        ...(form.location ? { location: [{ reference: form.location }] } : {}),
        period: { start: new Date().toISOString().slice(0, 10) },
      });
      setDone(`${display(byRef.get(form.practitioner))} assigned.`);
      all.reload();
    } catch (err) {
      setError((err as Error).message);
    }
  };
  const end = async (r: PractitionerRole) => {
    setError(null);
    try {
      await send(`/fhir/PractitionerRole/${r.id}`, {
        method: 'PUT',
        body: { ...r, active: false, period: { ...r.period, end: new Date().toISOString().slice(0, 10) } } satisfies PractitionerRole,
      });
      all.reload();
    } catch (err) {
      setError((err as Error).message);
    }
  };
  return (
    <section>
      <h1>Teams and wards</h1>
      <form
        className="card"
        aria-labelledby="assign-title"
        onSubmit={(e) => {
          e.preventDefault();
          void assign();
        }}
      >
        <h2 id="assign-title">New assignment</h2>
        <div className="row">
          <label>
            Staff member
            <select value={form.practitioner} onChange={(e) => setForm({ ...form, practitioner: e.target.value })} required>
              <option value="">choose…</option>
              {d.people.map((p) => (
                <option key={p.id} value={`Practitioner/${p.id}`}>
                  {display(p)}
                </option>
              ))}
            </select>
          </label>
          <label>
            Care team (department)
            <select value={form.organization} onChange={(e) => setForm({ ...form, organization: e.target.value })}>
              <option value="">none</option>
              {d.orgs.map((o) => (
                <option key={o.id} value={`Organization/${o.id}`}>
                  {display(o)}
                </option>
              ))}
            </select>
          </label>
          <label>
            Ward
            <select value={form.location} onChange={(e) => setForm({ ...form, location: e.target.value })}>
              <option value="">none</option>
              {d.places.map((l) => (
                <option key={l.id} value={`Location/${l.id}`}>
                  {display(l)}
                </option>
              ))}
            </select>
          </label>
        </div>
        <ErrorNote error={error} />
        {done ? <p role="status">{done}</p> : null}
        <button type="submit" className="primary">
          Assign
        </button>
      </form>
      <table>
        <caption className="sr-only">Current assignments</caption>
        <Heads cols={['Staff member', 'Care team', 'Ward', 'Since', '']} />
        <tbody>
          {d.roles
            .filter((r) => r.active !== false)
            .map((r) => (
              <tr key={r.id}>
                <td>{display(byRef.get(r.practitioner?.reference ?? ''))}</td>
                <td>{display(byRef.get(r.organization?.reference ?? ''))}</td>
                <td>{(r.location ?? []).map((l) => display(byRef.get(l.reference ?? ''))).join(', ') || '—'}</td>
                <td>{r.period?.start ?? '—'}</td>
                <td>
                  <button type="button" onClick={() => void end(r)}>
                    End assignment
                  </button>
                </td>
              </tr>
            ))}
          {d.roles.every((r) => r.active === false) ? (
            <tr>
              <td colSpan={5} className="muted">
                No one is assigned to a care team or ward yet.
              </td>
            </tr>
          ) : null}
        </tbody>
      </table>
    </section>
  );
}
