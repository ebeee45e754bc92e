/** Staff by name: the directory (GET /api/staff), a picker that offers it, and finding who was meant. */
import { StaffDirectory } from '../../src/api/index.js';
import { get } from './api';
import { useLoad } from './ui';

export type Person = StaffDirectory['staff'][number];

/** The directory, loaded once per screen. */
/** The staff directory, loaded again whenever something in `deps` changes (an account added). */
export function useStaff(deps: unknown[] = []): Person[] {
  return useStaffDirectory(deps).staff;
}

/**
 * The staff directory, and whether it has come: a name typed before it has cannot be looked up
 * yet, and a form asking by name waits for it rather than say nobody has that name.
 */
export function useStaffDirectory(deps: unknown[] = []): { staff: Person[]; loaded: boolean } {
  const { data, error } = useLoad(() => get(StaffDirectory, '/api/staff'), deps);
  return { staff: data?.staff ?? [], loaded: data !== undefined || error !== undefined };
}

/** The person meant by what was typed: a user name or a whole name, in any case. */
export function findPerson(staff: Person[], typed: string): Person | undefined {
  const t = typed.trim().toLowerCase();
  return staff.find((p) => p.username === t || p.name.toLowerCase() === t);
}

/** What to say when nobody matches. */
export const NO_SUCH_PERSON = 'No staff member has that name or user name: pick one from the list.';

/** A text field that offers the staff by name as one types (the value is a user name). */
export function StaffPicker({
  label,
  value,
  onChange,
  staff,
  required,
}: {
  label: string;
  value: string;
  onChange: (v: string) => void;
  staff: Person[];
  required?: boolean;
}) {
  const listId = `staff-${label.toLowerCase().replace(/[^a-z]+/g, '-')}`;
  return (
    <label>
      {label}
      <input list={listId} value={value} onChange={(e) => onChange(e.target.value)} placeholder="name or user name" required={required} />
      <datalist id={listId}>
        {staff.map((p) => (
          <option key={p.accountId} value={p.username}>
            {`${p.name} — ${p.roles.join(', ')}${p.active ? '' : ' (disabled)'}`}
          </option>
        ))}
      </datalist>
    </label>
  );
}

/**
 * Someone the records name by practitioner ('Practitioner/<id>') or user name, as people know them;
 * the first of `refs` the directory knows, else the first given as it stands.
 */
export function nameOf(staff: Person[], ...refs: Array<string | undefined>): string {
  for (const ref of refs) {
    const p = ref === undefined ? undefined : staff.find((x) => x.practitioner === ref || x.username === ref);
    if (p) return p.name === p.username ? p.name : `${p.name} (${p.username})`;
  }
  return refs.find((r) => r !== undefined) ?? '—';
}
