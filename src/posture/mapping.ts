/**
 * Which of Carewall's measured checks bear on which HICP sub-practice. Kept apart from the
 * framework's data so that a new edition (a new data file) needs only a new mapping here, and so
 * that a reader sees in one place what Carewall claims to measure. Anything not listed is attested.
 */
export const ITEM_CHECKS: Record<string, string[]> = {
  // 1 Email protection: staff taught, tested, reporting.
  'hicp-1.s.b': ['awareness.simulations'],
  'hicp-1.s.c': ['awareness.simulations'],
  'hicp-1.m.d': ['awareness.simulations'],
  // 2 Endpoint protection: the ransomware guard on the file shares is the part Carewall runs.
  'hicp-2.s.a': ['guard.watching'],
  'hicp-2.m.a': ['guard.watching'],
  // 3 Identity and access: one account per person, leavers removed, a second factor where it matters.
  'hicp-3.s.a': [
    'identity.privileged-second-factor',
    'identity.remote-second-factor',
    'identity.departed-staff',
    'identity.dormant-accounts',
    'identity.shared-accounts',
  ],
  'hicp-3.m.a': ['identity.shared-accounts'],
  'hicp-3.m.b': ['identity.departed-staff', 'identity.dormant-accounts'],
  'hicp-3.m.c': ['identity.privileged-second-factor'],
  'hicp-3.m.d': ['identity.remote-second-factor'],
  // 3 (large) Access by need and its governance: charts opened through care, emergencies reviewed.
  'hicp-3.l.b': ['access.bound-to-care'],
  'hicp-3.l.c': ['access.break-glass-reviewed'],
  // 4 Data protection: records encrypted at rest, backups that restore in time.
  'hicp-4.s.a': ['keys.encryption-at-rest', 'backup.fresh', 'backup.restore-tested', 'backup.restore-time'],
  'hicp-4.m.c': ['keys.encryption-at-rest'],
  'hicp-4.m.d': ['backup.fresh', 'backup.restore-tested', 'backup.restore-time'],
  // 5 Asset management: the equipment inventory.
  'hicp-5.s.a': ['equipment.advisories'],
  // 7 Vulnerability management: the part Carewall can see is Carewall itself.
  'hicp-7.s.a': ['software.current'],
  'hicp-7.m.d': ['software.current'],
  // 8 Watching for attacks: the guard's alarms, the insider monitor's cases, a log nobody can rewrite.
  'hicp-8.m.a': ['guard.watching', 'monitor.cases-worked', 'audit.witnessed', 'audit.verified'],
  'hicp-8.l.e': ['monitor.cases-worked'],
  // 9 Connected medical devices: known, reporting, advisories decided.
  'hicp-9.s.a': ['equipment.advisories'],
  'hicp-9.m.a': ['equipment.advisories'],
  'hicp-9.m.d': ['equipment.advisories'],
};
