/**
 * The street clinic of the base-rate tests (monitor-baserates, and the live monitor's watch list and
 * learning): six cardiology nurses who live on Lilac Road, ten of the ward's patients on `street`,
 * and one unlinked look by the first nurse at a neighbour on Lilac Road.
 */
import { at, DAY, START, TinyClinic } from './monitorFixture.js';

export const SNOOP = 'street-nurse-1';

/**
 * Six more cardiology nurses who live on one street; ten of the ward's patients live on `street`.
 * With `street` = the nurses' street, treating neighbours is everyday explained work there.
 */
export function clinicWith(street: string): TinyClinic {
  const clinic = new TinyClinic();
  const nurses: string[] = [];
  for (let i = 1; i <= 6; i++)
    nurses.push(
      clinic.staff(
        `street-nurse-${i}`,
        { family: `Streetnurse${i}`, given: 'Ash', birthDate: `197${i}-04-0${i}`, line: `${10 + i} Lilac Road`, phone: `+1-555-300-00${i}` },
        { role: 'nurse', org: 'cardio', ward: true },
      ),
    );
  const treated: string[] = [];
  for (let i = 1; i <= 10; i++) {
    const id = clinic.patient(`local-${i}`, {
      family: `Local${i}`,
      given: 'Bo',
      birthDate: `194${i % 10}-06-0${1 + (i % 9)}`,
      line: `${40 + i} ${street}`,
      phone: `+1-555-400-0${String(i).padStart(2, '0')}`,
    });
    clinic.encounter(id, 'cardio', START - DAY, START + clinic.days * DAY);
    treated.push(id);
  }
  // Ward work with clinical action: every street nurse, every day, some of those patients.
  for (let d = 0; d < clinic.days; d++)
    nurses.forEach((n, i) => {
      for (let k = 0; k < 3; k++) {
        const p = treated[(d + i * 2 + k * 3) % treated.length];
        clinic.access(n, p, at(d, 9 + k, i * 5));
        clinic.access(n, p, at(d, 9 + k, i * 5 + 1), { subtype: 'create' });
      }
    });
  // The look in question: a neighbour on Lilac Road no record links to any nurse or ward.
  clinic.patient('next-door', { family: 'Nextdoor', given: 'Cy', birthDate: '1955-05-05', line: '90 Lilac Road', phone: '+1-555-500-001' });
  clinic.access(SNOOP, 'next-door', at(6, 14));
  return clinic;
}
