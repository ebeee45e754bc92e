/**
 * The people simulations go to, and the groups campaigns are sent to. Most come from Carewall's own
 * staff accounts (name, work address and department from the account's Practitioner and its
 * PractitionerRole); staff without an account come from a CSV file. Both are kept in one table so a
 * campaign, its figures and a person's own history treat them alike.
 */
import crypto from 'node:crypto';
import { parse } from 'csv-parse/sync';
import { DateTime } from 'luxon';
import type { Queryable } from '../db/index.js';
import { FhirError } from '../shared/index.js';

/** One member of staff as the directory (accounts and practitioners) or a CSV file names them. */
export interface StaffEntry {
  email: string;
  firstName: string;
  lastName: string;
  department: string;
  position: string;
  /** IANA zone; the clinic's zone when unknown. */
  timeZone?: string;
  /** The Carewall account, when the person has one: their own results page follows it. */
  username?: string;
}

export interface Person extends Required<Omit<StaffEntry, 'username'>> {
  id: string;
  username?: string;
  source: 'accounts' | 'csv';
  active: boolean;
  courseEnrolledAt?: string;
  coursePassedAt?: string;
}

/** A well-formed address, compared lower-case. Deliberately plain: the relay is the judge of deliverability. */
const EMAIL = /^[^\s@<>(),;:"[\]]{1,64}@[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/;

export function isEmail(value: string): boolean {
  return value.length <= 254 && EMAIL.test(value.toLowerCase());
}

export function isTimeZone(zone: string): boolean {
  return DateTime.now().setZone(zone).isValid;
}

const CSV_COLUMNS = ['email', 'first_name', 'last_name', 'department', 'position', 'time_zone'] as const;

/**
 * Staff from a CSV file (header row; columns email, first_name, last_name, and optionally
 * department, position, time_zone). A problem names its row and column, never the value.
 */
export function readStaffCsv(text: string, defaultZone: string): StaffEntry[] {
  let rows: Record<string, string>[];
  try {
    rows = parse(text, { columns: (h: string[]) => h.map((c) => c.trim().toLowerCase()), skip_empty_lines: true, trim: true, bom: true });
  } catch {
    throw new FhirError(400, 'invalid', 'staff file: not a CSV file with a header row');
  }
  if (rows.length === 0) throw new FhirError(400, 'invalid', 'staff file: no rows');
  const unknown = Object.keys(rows[0]).filter((c) => !(CSV_COLUMNS as readonly string[]).includes(c));
  if (unknown.length > 0) throw new FhirError(400, 'invalid', `staff file: unknown column(s) ${unknown.join(', ')}; expected ${CSV_COLUMNS.join(', ')}`);
  const seen = new Set<string>();
  return rows.map((row, i) => {
    const at = `staff file row ${i + 2}`;
    const email = (row.email ?? '').toLowerCase();
    if (!isEmail(email)) throw new FhirError(400, 'invalid', `${at}, column email: not an e-mail address`);
    if (seen.has(email)) throw new FhirError(400, 'invalid', `${at}, column email: the same address is on an earlier row`);
    seen.add(email);
    for (const c of ['first_name', 'last_name'] as const) {
      if (!row[c] || row[c].length > 100) throw new FhirError(400, 'invalid', `${at}, column ${c}: required, at most 100 characters`);
    }
    const timeZone = row.time_zone || defaultZone;
    if (!isTimeZone(timeZone)) throw new FhirError(400, 'invalid', `${at}, column time_zone: not a time zone (e.g. Europe/Berlin)`);
    return {
      email,
      firstName: row.first_name,
      lastName: row.last_name,
      department: (row.department ?? '').slice(0, 200),
      position: (row.position ?? '').slice(0, 200),
      timeZone,
    };
  });
}

interface PersonRow {
  id: string;
  email: string;
  first_name: string;
  last_name: string;
  department: string;
  position: string;
  time_zone: string;
  username: string | null;
  source: 'accounts' | 'csv';
  active: boolean;
  course_enrolled_at: Date | null;
  course_passed_at: Date | null;
}

/** A person as `to_jsonb(awareness_person)` gives them (timestamps as text), for queries that join them in. */
export function personFromJson(p: Record<string, unknown>): Person {
  const date = (v: unknown) => (v ? new Date(v as string) : null);
  return toPerson({ ...(p as unknown as PersonRow), course_enrolled_at: date(p.course_enrolled_at), course_passed_at: date(p.course_passed_at) });
}

export function toPerson(r: PersonRow): Person {
  return {
    id: r.id,
    email: r.email,
    firstName: r.first_name,
    lastName: r.last_name,
    department: r.department,
    position: r.position,
    timeZone: r.time_zone,
    ...(r.username ? { username: r.username } : {}),
    source: r.source,
    active: r.active,
    ...(r.course_enrolled_at ? { courseEnrolledAt: r.course_enrolled_at.toISOString() } : {}),
    ...(r.course_passed_at ? { coursePassedAt: r.course_passed_at.toISOString() } : {}),
  };
}

/**
 * Adds or updates people by address. From the accounts, people whose account is gone are marked
 * inactive (kept: their past results stay in the figures); a CSV never deactivates anyone.
 */
export async function upsertPeople(
  tx: Queryable,
  entries: StaffEntry[],
  source: 'accounts' | 'csv',
  defaultZone: string,
): Promise<{ added: number; updated: number }> {
  let added = 0;
  let updated = 0;
  for (const e of entries) {
    const r = await tx.query<{ inserted: boolean }>(
      `insert into awareness_person (id, email, first_name, last_name, department, position, time_zone, username, source)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9)
       on conflict (email) do update set first_name = excluded.first_name, last_name = excluded.last_name,
         department = excluded.department, position = excluded.position, time_zone = excluded.time_zone,
         username = coalesce(excluded.username, awareness_person.username), active = true, updated_at = now()
       returning (xmax = 0) as inserted`,
      [crypto.randomUUID(), e.email.toLowerCase(), e.firstName, e.lastName, e.department, e.position, e.timeZone ?? defaultZone, e.username ?? null, source],
    );
    if (r.rows[0].inserted) added++;
    else updated++;
  }
  if (source === 'accounts') {
    await tx.query(`update awareness_person set active = false, updated_at = now() where source = 'accounts' and active and not (email = any($1::text[]))`, [
      entries.map((e) => e.email.toLowerCase()),
    ]);
  }
  return { added, updated };
}

export async function listPeople(q: Queryable): Promise<Person[]> {
  const r = await q.query<PersonRow>('select * from awareness_person order by last_name, first_name, email');
  return r.rows.map(toPerson);
}

export async function personByUsername(q: Queryable, username: string): Promise<Person | undefined> {
  const r = await q.query<PersonRow>('select * from awareness_person where username = $1', [username]);
  return r.rows[0] && toPerson(r.rows[0]);
}

export async function personByEmail(q: Queryable, email: string): Promise<Person | undefined> {
  const r = await q.query<PersonRow>('select * from awareness_person where email = $1', [email.toLowerCase()]);
  return r.rows[0] && toPerson(r.rows[0]);
}

export interface GroupInput {
  name: string;
  /** Everyone active in these departments. */
  departments?: string[];
  /** And these people, by address. */
  emails?: string[];
}

export interface Group {
  id: string;
  name: string;
  members: number;
  departments: string[];
}

/** A group is its members at creation: a campaign's audience does not shift under it. */
export async function createGroup(tx: Queryable, input: GroupInput, by: string): Promise<Group> {
  const name = input.name.trim();
  if (!name || name.length > 200) throw new FhirError(400, 'invalid', 'a group needs a name of at most 200 characters');
  const taken = await tx.query('select 1 from awareness_group where name = $1', [name]);
  if (taken.rows.length > 0) throw new FhirError(409, 'duplicate', 'a group with this name exists');
  const departments = input.departments ?? [];
  const emails = (input.emails ?? []).map((e) => e.toLowerCase());
  const members = await tx.query<{ id: string; email: string }>(
    `select id, email from awareness_person where active and (department = any($1::text[]) or email = any($2::text[]))`,
    [departments, emails],
  );
  const found = new Set(members.rows.map((m) => m.email));
  const missing = emails.filter((e) => !found.has(e)).length;
  if (missing > 0)
    throw new FhirError(400, 'invalid', `${missing} of the addresses named are not among the staff (add them from the accounts or a staff file first)`);
  if (members.rows.length === 0) throw new FhirError(400, 'invalid', 'the group would have no members');
  const id = crypto.randomUUID();
  await tx.query('insert into awareness_group (id, name, created_by) values ($1, $2, $3)', [id, name, by]);
  await tx.query('insert into awareness_group_member (group_id, person_id) select $1, unnest($2::text[])', [id, members.rows.map((m) => m.id)]);
  return { id, name, members: members.rows.length, departments };
}

export async function listGroups(q: Queryable): Promise<Group[]> {
  const r = await q.query<{ id: string; name: string; members: string; departments: string[] }>(
    `select g.id, g.name, count(m.person_id) as members,
       coalesce(array_agg(distinct p.department) filter (where p.department <> ''), '{}') as departments
     from awareness_group g left join awareness_group_member m on m.group_id = g.id left join awareness_person p on p.id = m.person_id
     group by g.id, g.name order by g.name`,
  );
  return r.rows.map((g) => ({ id: g.id, name: g.name, members: Number(g.members), departments: g.departments }));
}

export async function groupMembers(q: Queryable, groupId: string): Promise<Person[]> {
  const r = await q.query<PersonRow>(
    `select p.* from awareness_group_member m join awareness_person p on p.id = m.person_id where m.group_id = $1 and p.active order by p.email`,
    [groupId],
  );
  return r.rows.map(toPerson);
}
