/**
 * A patient's privacy Consent, reduced to the two rules Carewall enforces at access time:
 *  - deny:        the named actors (or anyone, when none are named) may not access, for the named
 *                 purposes of use (or any purpose);
 *  - permit-only: for the named purposes (or any), only the named actors may access.
 *
 * FHIR R4 expresses these as a base provision with nested exceptions. The shapes recognised:
 *   base deny  + actors                    -> deny(actors)
 *   base deny  + nested permit with actors -> permit-only(actors of the permits)
 *   base deny  alone                       -> deny(anyone)
 *   base permit + actors                   -> permit-only(actors)
 *   base permit + nested deny              -> deny(actors of each nested deny)
 * A consent never grants access: it only narrows what care relationships allow. Break-the-glass
 * and a privacy officer's investigation are not subject to it (they are audited and reviewed).
 */
import type { Consent, ConsentProvision } from '@medplum/fhirtypes';
import { principalRef } from './relationships.js';

export interface ConsentRule {
  effect: 'deny' | 'permit-only';
  /** Principal references ('Practitioner/x', 'Organization/y'); null means anyone. */
  actors: string[] | null;
  /** PurposeOfUse codes (TREAT, HPAYMT, ...); null means any purpose. */
  purposes: string[] | null;
  startsAt?: string;
  endsAt?: string;
}

const PRIVACY_SCOPE = 'patient-privacy';

export function consentRules(consent: Consent): ConsentRule[] {
  if (consent.status !== 'active') return [];
  const scopeCodes = (consent.scope?.coding ?? []).map((c) => c.code);
  if (scopeCodes.length > 0 && !scopeCodes.includes(PRIVACY_SCOPE)) return [];
  const base = consent.provision;
  if (!base) return [];
  const period = { startsAt: base.period?.start, endsAt: base.period?.end };
  const actors = actorsOf(base);
  const purposes = purposesOf(base);
  const nested = base.provision ?? [];
  const rules: ConsentRule[] = [];
  if (base.type === 'deny') {
    if (actors) rules.push({ effect: 'deny', actors, purposes, ...period });
    else {
      const permitted = nested.filter((p) => p.type === 'permit').flatMap((p) => actorsOf(p) ?? []);
      rules.push(
        permitted.length > 0 ? { effect: 'permit-only', actors: permitted, purposes, ...period } : { effect: 'deny', actors: null, purposes, ...period },
      );
    }
  } else {
    if (actors) rules.push({ effect: 'permit-only', actors, purposes, ...period });
    for (const p of nested.filter((n) => n.type === 'deny')) {
      rules.push({
        effect: 'deny',
        actors: actorsOf(p),
        purposes: purposesOf(p) ?? purposes,
        startsAt: p.period?.start ?? period.startsAt,
        endsAt: p.period?.end ?? period.endsAt,
      });
    }
  }
  return rules;
}

function actorsOf(p: ConsentProvision): string[] | null {
  const refs = (p.actor ?? []).map((a) => principalRef(a.reference)).filter((r): r is string => r !== undefined);
  return refs.length > 0 ? refs : null;
}

function purposesOf(p: ConsentProvision): string[] | null {
  const codes = (p.purpose ?? []).map((c) => c.code).filter((c): c is string => typeof c === 'string');
  return codes.length > 0 ? codes : null;
}
