/**
 * The facts the checks read, gathered from the other capabilities through what they offer publicly
 * (runtime.ts hands in these functions): accounts from identity, each account's practitioner's
 * `active` from the records, backups' runs and restore tests, the guard's state, the awareness
 * programme's last campaign. Nothing here reads another capability's tables.
 */
import type { AccountFact, PostureFacts } from './checks.js';

export interface FactSources {
  accounts: () => Promise<Array<Omit<AccountFact, 'practitionerActive'> & { practitioner?: string }>>;
  /** The practitioner's `active` (undefined when unknown or unreadable). */
  practitionerActive: (ref: string) => Promise<boolean | undefined>;
  backups: () => Promise<PostureFacts['backups']>;
  guard: () => PostureFacts['guard'];
  lastCampaign: () => Promise<PostureFacts['awareness']['lastCampaign']>;
  breakGlass: (now: Date) => Promise<PostureFacts['breakGlass']>;
  insiderCases: (now: Date) => Promise<PostureFacts['insiderCases']>;
  audit: () => PostureFacts['audit'];
  equipment: () => Promise<PostureFacts['equipment']>;
}

export async function gatherFacts(src: FactSources, now: Date): Promise<PostureFacts> {
  const accounts: AccountFact[] = [];
  for (const a of await src.accounts()) {
    const { practitioner, ...rest } = a;
    const practitionerActive = practitioner ? await src.practitionerActive(practitioner) : undefined;
    accounts.push({ ...rest, ...(practitionerActive !== undefined ? { practitionerActive } : {}) });
  }
  const lastCampaign = await src.lastCampaign();
  return {
    now,
    accounts,
    backups: await src.backups(),
    guard: src.guard(),
    awareness: lastCampaign ? { lastCampaign } : {},
    breakGlass: await src.breakGlass(now),
    insiderCases: await src.insiderCases(now),
    audit: src.audit(),
    equipment: await src.equipment(),
  };
}
