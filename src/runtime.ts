/**
 * Composition root: opens the database, applies every capability's migrations, and wires the
 * capabilities together. The HTTP server and the CLI both start from here.
 */
import { AccessGrants, AccessPolicy, accessMigrations, assignmentRules, authorize, reviewQueueSink } from './access/index.js';
import { AuditService, auditMigrations } from './audit/index.js';
import { BackupService, MassChangeGuard, backupMigrations, massChangeSettings } from './backup/index.js';
import { BulkExports, bulkMigrations } from './bulk/index.js';
import { ClientService, clientMigrations } from './clients/index.js';
import type { Settings } from './config.js';
import { openDatabase, type Database } from './db/index.js';
import { migrate } from './db/index.js';
import { VERSION } from './version.js';
import { IdentityService, identityMigrations } from './identity/index.js';
import { Keyring, keyMigrations } from './keys/index.js';
import { loadMasterKeys } from './keys/index.js';
import { MonitorService, monitorMigrations } from './monitor/index.js';
import { createLogger, type Logger } from './log.js';
import { FhirService, recordMigrations } from './records/index.js';
import { Notices, notifyMigrations, Webhooks } from './notify/index.js';
import { GuardService, guardMigrations, guardSettings } from './guard/index.js';
import { Engineers, ReleasePipeline, UpdatesService, updatesMigrations } from './updates/index.js';
import { DirectorService, directorMigrations } from './director/index.js';
import { InventoryService } from './inventory/index.js';
import { AdvisoryService, advisoriesMigrations } from './advisories/index.js';
import { AwarenessService, awarenessMigrations, staffDirectory } from './awareness/index.js';
import { SYSTEM, writtenName } from './shared/index.js';
import { ITEM_CHECKS, PostureService, frameworkById, postureMigrations, readReleaseFeed } from './posture/index.js';
import type { Practitioner, PractitionerRole } from '@medplum/fhirtypes';

export interface Carewall {
  settings: Settings;
  db: Database;
  keyring: Keyring;
  fhir: FhirService;
  access: AccessPolicy;
  grants: AccessGrants;
  /** What privacy officers are told, by every capability: the console's list, the log, webhooks. */
  notices: Notices;
  identity: IdentityService;
  clients: ClientService;
  exports: BulkExports;
  audit: AuditService;
  backups: BackupService;
  massChange: MassChangeGuard;
  monitor: MonitorService;
  guard: GuardService;
  updates: UpdatesService;
  /** Equipment releases staged, signed off and approved by the classes' engineers. */
  releases: ReleasePipeline;
  /** Which device installs which release, when (rollouts in waves, maintenance windows). */
  director: DirectorService;
  /** The equipment inventory (FHIR Device and DeviceDefinition through the records service). */
  inventory: InventoryService;
  /** CSAF advisories matched to the inventory, with VEX per device. */
  advisories: AdvisoryService;
  /** Staff awareness: phishing simulations, lessons, the report button, triage of reported mail. */
  awareness: AwarenessService;
  /** Where the clinic stands against HHS 405(d) HICP, from Carewall's own evidence and attestations. */
  posture: PostureService;
  log: Logger;
  close(): Promise<void>;
}

export const ALL_MIGRATIONS = [
  ...keyMigrations,
  ...recordMigrations,
  ...identityMigrations,
  ...accessMigrations,
  ...notifyMigrations,
  ...auditMigrations,
  ...clientMigrations,
  ...bulkMigrations,
  ...backupMigrations,
  ...monitorMigrations,
  ...guardMigrations,
  ...updatesMigrations,
  ...directorMigrations,
  ...advisoriesMigrations,
  ...awarenessMigrations,
  ...postureMigrations,
];

export async function openCarewall(settings: Settings, log: Logger = createLogger()): Promise<Carewall> {
  const masterKeys = loadMasterKeys(settings.dataDir);
  const db = await openDatabase({
    dataDir: settings.dataDir,
    databaseUrl: settings.databaseUrl,
    listenUrl: settings.databaseListenUrl,
    replicaUrl: settings.databaseReplicaUrl,
    pooler: settings.databasePooler,
    // The SQLSTATE only: the engine's message may name tables and values.
    onMaintenanceFailed: (err) =>
      log.warn({ code: (err as { code?: unknown }).code }, "the embedded database's maintenance (vacuum, analyse) failed; it is tried again in a minute"),
    onMaintained: (done) =>
      log.debug({ vacuumed: done.vacuumed, analysed: done.analysed, complete: done.complete }, "the embedded database's maintenance pass ended"),
  });
  try {
    await migrate(db, ALL_MIGRATIONS);
    const keyring = new Keyring(db, masterKeys, settings.dataDir);
    await keyring.init();
    // The audit log comes first: every access decision is a record in it before it is acted on.
    const audit = new AuditService(db, keyring, settings.audit, log, settings.dataDir);
    // Every recorded decision goes to the audit log, and what a person must look at to the review queue.
    const access = new AccessPolicy(db, () => keyring.blindIndex, settings.access, { audit: audit.onAccess, review: reviewQueueSink(db) });
    const fhir = new FhirService(db, keyring, access);
    // The access tables follow every write, in its transaction.
    fhir.writeHooks.push(access.writeHook);
    fhir.newVersionsHooks.push(access.newVersionsHook);
    await access.start();
    // Privacy officers (and only they: the access rules' 'access.review') read what they are told.
    const notices = new Notices(db, log, new Webhooks(settings.access.notifyWebhooks, log), (who) => authorize(who, 'access.review'));
    const grants = new AccessGrants(db, keyring, access, settings.access, notices.send);
    // Requests to act as a practitioner bound before, and their decisions, go to the privacy officers.
    const identity = new IdentityService(db, keyring, settings, notices.send);
    // Team and ward assignments: not twice, and not to staff whose accounts are all disabled.
    fhir.writeHooks.push(assignmentRules((practitioner, q) => identity.onlyDisabledAccounts(practitioner, q)));
    const clients = new ClientService(db);
    // Accounts, clients and grants report to the audit log too.
    identity.onEvent(audit.onIdentity);
    clients.onEvent(audit.onClient);
    grants.onEvent(audit.onGrant);
    // A write and its record commit together: the records of a write transaction are appended at its end.
    fhir.transactionHooks.push(audit.writeTransactions);
    const exports = new BulkExports(db, fhir, keyring, audit, log);
    // An account changing or deleting an unusual number of records is suspended and reported.
    const massChange = new MassChangeGuard(
      db,
      massChangeSettings(settings),
      {
        suspend: (username) => identity.disableAccount(username),
        notify: (message) => notices.send('mass-change', 'mass-change', message),
      },
      log,
    );
    fhir.writeHooks.push(massChange.writeHook);
    const backups = new BackupService(db, settings, log);
    // The ransomware guard on the file shares: alarms go to the privacy officers, the protective
    // snapshot into the backup repository. The server starts it.
    const shares = backups.config.shares;
    const guard = new GuardService({
      db,
      dataDir: settings.dataDir,
      shares,
      settings: guardSettings(settings, Object.keys(shares)),
      exclude: () => [backups.localRepositoryFolder()].filter((f): f is string => !!f),
      protect: () => (backups.isSetUp() ? (files, stillGood) => backups.protect(files, stillGood) : undefined),
      notify: (message) => notices.send('ransomware-alarm', 'guard', message),
      log,
    });
    // The guard's decoys are its own, not the clinic's: backups leave them out.
    backups.notClinicFiles = () => guard.decoyPaths();
    // The live insider-misuse monitor reads the audit log and the records; the server starts its job.
    const monitor = new MonitorService(db, keyring, fhir, audit, notices.send, settings, log);
    // Accounts are shown by their practitioner's name (the staff directory, the case assignees).
    identity.practitionerName = async (ref) => {
      const id = ref.replace(/^Practitioner\//, '');
      const p = (await fhir.read(SYSTEM, 'Practitioner', id)).resource as { name?: Parameters<typeof writtenName>[0] };
      return writtenName(p.name, { prefix: true });
    };
    // Cases go only to active privacy officers.
    monitor.reviewers = () => identity.activeAccountsWithRole('privacy-officer');
    // The equipment update repository (TUF): its online keys are sealed with the general key.
    const updates = new UpdatesService(db, keyring, log);
    // Each device report (or refused one) goes to the audit log.
    updates.devices.audit = audit.onEquipment;
    // Who releases for which equipment, and the steps of a release; approvals go to the officers.
    const engineers = new Engineers(db, audit.onEquipment, (username) => identity.describeAccount(username));
    const releases = new ReleasePipeline(db, updates, engineers, audit.onEquipment, (message) => notices.send('equipment-release', 'updates', message));
    const inventory = new InventoryService(fhir, updates, audit.onEquipment);
    const advisories = new AdvisoryService(
      db,
      () => inventory.fleetItems(),
      audit.onEquipment,
      (message) => notices.send('equipment-advisory', 'advisories', message),
    );
    // The fleet shows each device's open advisories; a release's SBOM is checked against them.
    inventory.vulnerabilities = (deviceIds) => advisories.stateOf(deviceIds);
    releases.advisoryCheck = (release) => advisories.checkRelease(release);
    const director = new DirectorService({
      db,
      keyring,
      updates,
      mayRelease: (who, deviceClass) => engineers.mayRelease(who, deviceClass),
      audit: audit.onEquipment,
      notify: (message) => notices.send('equipment-rollout', 'director', message),
      // The maintenance windows the inventory keeps for each device.
      windowsOf: (deviceId) => inventory.maintenanceWindows(deviceId),
    });
    // A device refusing the release it was told to install halts that rollout.
    updates.devices.onRefusal = (refusal) => director.rollouts.haltOnRefusal(refusal);
    // Staff awareness: its people come from the accounts and their practitioners; its steps go to the audit log.
    const awareness = new AwarenessService({
      db,
      settings,
      audit: audit.onEquipment,
      notify: (message) => notices.send('reported-phishing', 'awareness', message),
      directory: () =>
        staffDirectory({
          accounts: () => identity.listAccounts(),
          practitioner: async (id) => (await fhir.read(SYSTEM, 'Practitioner', id).catch(() => undefined))?.resource as Practitioner | undefined,
          rolesOf: async (ref) =>
            ((await fhir.search(SYSTEM, 'PractitionerRole', { practitioner: [ref] }, new URL('http://carewall.local/fhir/PractitionerRole'))).entry ?? []).map(
              (e) => e.resource as PractitionerRole,
            ),
        }),
      seal: (plain, context) => keyring.sealGeneral(plain, context),
      open: (sealed, context) => keyring.openGeneral(sealed, context),
      log,
    });
    // The posture scorecard reads every other capability's state through what each offers publicly:
    // the services of the installation as it is at the time (`wired`, set below), so that a record
    // service or inventory replaced after opening (a test's plaintext codec) is the one it reads.
    const wired: { cw?: Carewall } = {};
    const framework = frameworkById('hicp', '2023');
    if (!framework) throw new Error('the HICP 2023 framework data is missing from the installation');
    const posture = new PostureService({
      db,
      settings,
      framework: () => framework,
      itemChecks: ITEM_CHECKS,
      audit: audit.onEquipment,
      seal: (plain, context) => keyring.sealGeneral(plain, context),
      open: (sealed, context) => keyring.openGeneral(sealed, context),
      log,
      sources: {
        sessions: (since) => identity.sessionsSince(since),
        keys: () => keyring.masterKeyFacts(),
        version: VERSION,
        latestRelease: (feed) => readReleaseFeed(feed),
        chartAccess: async (since) => {
          const reads = await audit.countSince(['read', 'vread', 'history'], since);
          const grants30 = (await grants.list(SYSTEM, 'break-glass', 'all')).filter((g) => Date.parse(g.expiresAt) >= since.getTime());
          const emergency = grants30
            .flatMap((g) => g.uses)
            .filter((u) => ['read', 'vread', 'history'].includes(u.action) && Date.parse(u.at) >= since.getTime());
          return { reads30Days: reads, emergencyReads30Days: emergency.length };
        },
        accounts: async () =>
          (await identity.listAccounts()).map((a) => ({
            username: a.username,
            roles: a.roles,
            totpRequired: a.totpRequired,
            disabled: a.disabled,
            createdAt: a.createdAt,
            ...(a.lastLoginAt ? { lastLoginAt: a.lastLoginAt } : {}),
            ...(a.validUntil ? { validUntil: a.validUntil } : {}),
            ...(a.practitioner ? { practitioner: a.practitioner } : {}),
          })),
        practitionerActive: async (ref) => {
          const found = await (wired.cw?.fhir ?? fhir).read(SYSTEM, 'Practitioner', ref.replace(/^Practitioner\//, '')).catch(() => undefined);
          const active = (found?.resource as Practitioner | undefined)?.active;
          return found?.deleted ? false : active;
        },
        backups: async () => {
          const last = (await backups.runs(50)).find((r) => r.ok === true) as { started_at?: Date } | undefined;
          const test = (await backups.restoreTests(1))[0] as { tested_at?: Date; ok?: boolean; seconds?: number } | undefined;
          return {
            setUp: backups.isSetUp(),
            everyHours: backups.config.everyHours,
            ...(last?.started_at ? { lastSuccess: new Date(last.started_at).toISOString() } : {}),
            ...(test?.tested_at
              ? {
                  lastRestoreTest: {
                    at: new Date(test.tested_at).toISOString(),
                    ok: test.ok === true,
                    ...(test.seconds ? { seconds: Number(test.seconds) } : {}),
                  },
                }
              : {}),
          };
        },
        guard: () => {
          const g = guard.status();
          return {
            enabled: g.enabled,
            watching: g.watching,
            shares: g.shares.length,
            configuredShares: Object.keys(backups.config.shares).length,
            decoys: g.decoys,
          };
        },
        breakGlass: async (now) => {
          const grants90 = (await grants.list(SYSTEM, 'break-glass', 'all')).filter((g) => now.getTime() - Date.parse(g.startedAt) <= 90 * 86_400_000);
          const overdue = grants90.filter((g) => g.status === 'unreviewed' && now.getTime() - Date.parse(g.startedAt) > 7 * 86_400_000);
          return { last90Days: grants90.length, unreviewedOverWeek: overdue.length };
        },
        insiderCases: async (now) => {
          const open = (await monitor.listCases(SYSTEM, 'all')).filter((c) => c.status !== 'closed');
          const oldest = open.reduce((min, c) => Math.min(min, Date.parse(c.createdAt)), now.getTime());
          return { open: open.length, oldestOpenDays: Math.floor((now.getTime() - oldest) / 86_400_000) };
        },
        audit: async () => {
          const lastVerification = await audit.lastVerification();
          return {
            witnesses: settings.audit.witnesses.length,
            checkpointSeconds: settings.audit.intervalSeconds,
            ...(lastVerification ? { lastVerification } : {}),
          };
        },
        equipment: async () => {
          const fleet = await (wired.cw?.inventory ?? inventory).fleet(SYSTEM);
          const open = fleet.filter((d) => d.vulnerabilities.open > 0);
          return {
            devices: fleet.length,
            withOpenAdvisories: open.length,
            lifeCriticalWithOpenAdvisories: open.filter((d) => d.lifeCritical).length,
            neverReported: fleet.filter((d) => d.flags.includes('never-reported')).length,
          };
        },
        lastCampaign: async () => {
          const last = (await awareness.trend(SYSTEM)).at(-1);
          return last?.sentFrom
            ? {
                name: last.name,
                sentFrom: last.sentFrom,
                delivered: last.delivered || last.sent,
                phishProne: last.phishProne,
                reportRate: last.reportRate,
                trainedShare: last.trainedShare,
              }
            : undefined;
        },
      },
    });
    await audit.pinnedVerifierKey();
    await audit.recordConfiguration(settings);
    await audit.sequenceLeftovers();
    audit.start();
    const close = async () => {
      exports.stop(); // a job waiting for the database to come back ends now, as failed
      await Promise.allSettled(exports.running.values());
      awareness.stop();
      posture.stop();
      await guard.stop();
      await backups.stop();
      await monitor.stop();
      updates.stop();
      audit.stop();
      await audit.flushTileReads().catch(() => undefined); // the last counts of tile fetches
      await access.stop();
      await db.close();
    };
    return (wired.cw = {
      settings,
      db,
      keyring,
      fhir,
      access,
      grants,
      notices,
      identity,
      clients,
      exports,
      audit,
      backups,
      massChange,
      monitor,
      guard,
      updates,
      releases,
      director,
      inventory,
      advisories,
      awareness,
      posture,
      log,
      close,
    });
  } catch (err) {
    await db.close();
    throw err;
  }
}
