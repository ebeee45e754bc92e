/**
 * The equipment inventory (issue 25; HICP practices 5 and 9): devices as FHIR R4 `Device`, models
 * as `DeviceDefinition`, kept through the records service, so under the same encryption, access
 * rules (biomedical engineers keep it, security admins read it, clinical roles are refused) and
 * audit as every resource. What a device runs is never typed in: the fleet view takes it from the
 * signed manifests the update registry keeps.
 */
import type { Bundle, BundleEntry, Device, DeviceDefinition, Location } from '@medplum/fhirtypes';
import { parse } from 'csv-parse/sync';
import { LRUCache } from 'lru-cache';
import { processBundle, type FhirService } from '../records/index.js';
import { FhirError, SYSTEM, badRequest, type EquipmentAudit, type MaintenanceWindow, type Who } from '../shared/index.js';
import type { DeviceStatus, SbomComponent, UpdatesService } from '../updates/index.js';
import { checkSbom } from '../updates/index.js';
import { CSV_COLUMNS, MAX_ROWS, REQUIRED, rowFacts } from './rows.js';
import {
  CLASS_SYSTEM,
  CPE_SYSTEM,
  DEVICE_ID_SYSTEM,
  EXT,
  HARDWARE_ID_SYSTEM,
  MODEL_SYSTEM,
  PURL_SYSTEM,
  definitionResource,
  deviceResource,
  identifierOf,
  isLifeCritical,
  modelKey,
  rowOfDevice,
  windowsOf,
  type DeviceFacts,
} from './device.js';

export interface FleetDevice {
  id: string;
  deviceId: string;
  vendor: string;
  model: string;
  deviceClass: string;
  lifeCritical: boolean;
  serial: string | null;
  location: string | null;
  networkZone: string | null;
  windows: MaintenanceWindow[];
  /** From the device's last signed manifest, never typed in. */
  reported: { version: string; target: string | null; at: string } | null;
  flags: string[];
  vulnerabilities: { open: number; highestSeverity?: string };
}

/** Plain data per device for the advisories' matching. */
export interface FleetItem {
  deviceId: string;
  vendor: string;
  model: string;
  deviceClass: string;
  lifeCritical: boolean;
  hardwareId: string;
  reportedVersion?: string;
  reportedTarget?: string | null;
  cpe?: string;
  purl?: string;
  components: SbomComponent[];
}

export type VulnerabilityState = (deviceIds: string[]) => Promise<Map<string, { open: number; highestSeverity?: string }>>;

export class InventoryService {
  /** Filled in by the advisories capability (runtime.ts); none known by default. */
  vulnerabilities: VulnerabilityState = async () => new Map();
  /**
   * Each model version's SBOM components, read once: the advisories ask for the whole fleet on every
   * view, and a device's CycloneDX SBOM runs to megabytes. A model's new version is a new key.
   */
  private readonly components = new LRUCache<string, SbomComponent[]>({ max: 2000 });

  constructor(
    private readonly fhir: FhirService,
    private readonly updates: UpdatesService,
    private readonly audit: EquipmentAudit,
  ) {}

  /** A CSV file, one device per row: all rows are written, or none (a FHIR transaction). */
  async importCsv(who: Who, text: string): Promise<{ created: number; updated: number }> {
    await this.requireRole(who, 'keep', 'inventory.import-csv');
    let rows: Array<Record<string, string>>;
    try {
      rows = parse(text, {
        columns: (h: string[]) => h.map((c) => c.trim().toLowerCase()),
        skip_empty_lines: true,
        trim: true,
        bom: true,
        max_record_size: 64 * 1024,
      });
    } catch (err) {
      const line = (err as { lines?: number }).lines;
      throw badRequest(`the CSV file cannot be read${line ? ` (near line ${line})` : ''}: check its quoting and that every row has the header's columns`);
    }
    if (rows.length === 0) throw badRequest('the CSV file has no rows');
    if (rows.length > MAX_ROWS) throw badRequest(`at most ${MAX_ROWS} rows per import`);
    const header = Object.keys(rows[0]);
    const unknown = header.filter((h) => !(CSV_COLUMNS as readonly string[]).includes(h));
    if (unknown.length > 0) throw badRequest(`unknown column(s): ${unknown.length} (the columns are ${CSV_COLUMNS.join(', ')})`);
    for (const c of REQUIRED) if (!header.includes(c)) throw badRequest(`the column ${c} is required`);
    const locations = await this.locationsByName(who);
    const facts = rows.map((r, i) => rowFacts(r, i + 2, locations));
    const seen = new Set<string>();
    facts.forEach((f, i) => {
      if (seen.has(f.deviceId)) throw badRequest(`row ${i + 2}: device_id appears twice in the file`);
      seen.add(f.deviceId);
    });
    return this.write(who, facts, 'inventory.import-csv');
  }

  /** A CycloneDX BOM whose components of type "device" are devices (docs/inventory.md); their nested components are the model's SBOM. */
  async importCycloneDx(who: Who, bom: unknown): Promise<{ created: number; updated: number }> {
    await this.requireRole(who, 'keep', 'inventory.import-cyclonedx');
    checkSbom(bom); // a CycloneDX document, or a clear refusal
    const devices = ((bom as { components?: unknown[] }).components ?? []).filter((c) => (c as { type?: unknown }).type === 'device') as Array<
      Record<string, unknown>
    >;
    if (devices.length === 0) throw badRequest('the BOM lists no component of type "device"');
    const locations = await this.locationsByName(who);
    const facts = devices.map((d, i) => {
      const props = Object.fromEntries(((d.properties as Array<{ name?: string; value?: string }>) ?? []).map((p) => [String(p.name), String(p.value ?? '')]));
      const manufacturer = (d.manufacturer as { name?: string } | undefined)?.name ?? (d.supplier as { name?: string } | undefined)?.name ?? '';
      const row: Record<string, string> = {
        device_id: props['carewall:device-id'] ?? '',
        vendor: manufacturer,
        model: typeof d.name === 'string' ? d.name : '',
        serial: props['carewall:serial'] ?? '',
        hardware_id: props['carewall:hardware-id'] ?? '',
        hardware_revision: typeof d.version === 'string' ? d.version : '',
        class: props['carewall:class'] ?? '',
        life_critical: props['carewall:life-critical'] ?? '',
        location: props['carewall:location'] ?? '',
        network_zone: props['carewall:network-zone'] ?? '',
      };
      return rowFacts(row, i + 1, locations, 'component');
    });
    return this.write(who, facts, 'inventory.import-cyclonedx');
  }

  /**
   * A FHIR Bundle of Device (and DeviceDefinition) resources: each Device read as an import row, so
   * it is checked like one and matched by its Carewall device id like every import (run as sent, a
   * file of POSTs imported twice would make every device twice). Models follow from the devices'
   * vendor and model; a DeviceDefinition in the file adds its identifiers (CPE, purl) to its model.
   */
  async importFhir(who: Who, bundle: unknown): Promise<{ created: number; updated: number }> {
    await this.requireRole(who, 'keep', 'inventory.import-fhir');
    const b = bundle as Bundle;
    if (b?.resourceType !== 'Bundle' || !Array.isArray(b.entry)) throw badRequest('a FHIR Bundle with entries is expected');
    b.entry.forEach((e, i) => {
      const type = e.resource?.resourceType;
      if (type !== 'Device' && type !== 'DeviceDefinition') throw badRequest(`entry ${i + 1}: only Device and DeviceDefinition are imported here`);
    });
    const locations = await this.locationsByName(who);
    const facts = b.entry.flatMap((e, i) => {
      if (e.resource?.resourceType !== 'Device') return [];
      const { row, windows } = rowOfDevice(e.resource as Device);
      const f = rowFacts(row, i + 1, locations, 'entry');
      return [windows.length > 0 ? { ...f, windows } : f];
    });
    if (facts.length === 0) throw badRequest('the Bundle lists no Device');
    const models = b.entry.flatMap((e) => (e.resource?.resourceType === 'DeviceDefinition' ? [e.resource as DeviceDefinition] : []));
    return this.write(who, facts, 'inventory.import-fhir', models);
  }

  /** A model's SBOM (CycloneDX JSON) or MDS2 form, kept whole on its DeviceDefinition (encrypted like it). */
  async attach(who: Who, modelId: string, kind: 'sbom' | 'mds2', file: { contentType: string; data: Buffer }): Promise<void> {
    await this.requireRole(who, 'keep', `inventory.attach-${kind}`);
    if (kind === 'sbom') {
      let doc: unknown;
      try {
        doc = JSON.parse(file.data.toString('utf8'));
      } catch {
        throw badRequest('the SBOM is not JSON');
      }
      try {
        checkSbom(doc);
      } catch (err) {
        throw badRequest((err as Error).message);
      }
    }
    const current = (await this.fhir.read(who, 'DeviceDefinition', modelId)).resource as DeviceDefinition;
    const url = kind === 'sbom' ? EXT.sbom : EXT.mds2;
    const next: DeviceDefinition = {
      ...current,
      extension: [
        ...(current.extension ?? []).filter((e) => e.url !== url),
        { url, valueAttachment: { contentType: file.contentType, data: file.data.toString('base64'), creation: new Date().toISOString() } },
      ],
    };
    await this.fhir.update(who, 'DeviceDefinition', modelId, next);
    await this.audit({
      action: `inventory.attach-${kind}`,
      outcome: 'success',
      who,
      resource: { type: 'DeviceDefinition', id: modelId },
      details: { bytes: file.data.length },
    });
  }

  /** The fleet as the caller may see it (the records' access rules decide), with what each device reported. */
  async fleet(who: Who): Promise<FleetDevice[]> {
    await this.requireRole(who, 'read', 'inventory.fleet');
    const devices = await this.all<Device>(who, 'Device');
    const reports = new Map((await this.updates.devices.list()).map((d) => [d.id, d]));
    const ids = devices.map((d) => identifierOf(d, DEVICE_ID_SYSTEM) ?? '');
    const vulns = await this.vulnerabilities(ids.filter(Boolean));
    return devices.map((d, i) => fleetDevice(d, ids[i], reports.get(ids[i]), vulns.get(ids[i])));
  }

  /** The maintenance windows of the device the update registry knows as `deviceId` (the director asks). */
  async maintenanceWindows(deviceId: string): Promise<MaintenanceWindow[]> {
    const found = await this.fhir.search(
      SYSTEM,
      'Device',
      { identifier: [`${DEVICE_ID_SYSTEM}|${deviceId}`], _count: ['2'] },
      new URL('http://carewall/fhir/Device'),
    );
    const devices = (found.entry ?? []).map((e) => e.resource as Device);
    return devices.length === 1 ? windowsOf(devices[0]) : []; // unknown or ambiguous: no window, no instruction
  }

  /** Every device as plain data, with its model's SBOM components (the advisories match these). */
  async fleetItems(): Promise<FleetItem[]> {
    const devices = await this.all<Device>(SYSTEM, 'Device');
    const models = new Map((await this.all<DeviceDefinition>(SYSTEM, 'DeviceDefinition')).map((m) => [`DeviceDefinition/${m.id}`, m]));
    const reports = new Map((await this.updates.devices.list()).map((d) => [d.id, d]));
    return devices.flatMap((d) => {
      const deviceId = identifierOf(d, DEVICE_ID_SYSTEM);
      if (!deviceId) return [];
      const model = d.definition?.reference ? models.get(d.definition.reference) : undefined;
      const report = reports.get(deviceId)?.lastReport;
      return [
        {
          deviceId,
          vendor: d.manufacturer ?? model?.manufacturerString ?? '',
          model: d.modelNumber ?? model?.modelNumber ?? '',
          deviceClass: d.type?.coding?.find((c) => c.system === CLASS_SYSTEM)?.code ?? '',
          lifeCritical: isLifeCritical(d),
          hardwareId: identifierOf(d, HARDWARE_ID_SYSTEM) ?? '',
          ...(report ? { reportedVersion: report.version, reportedTarget: report.target } : {}),
          ...(model && identifierOf(model, CPE_SYSTEM) ? { cpe: identifierOf(model, CPE_SYSTEM) } : {}),
          ...(model && identifierOf(model, PURL_SYSTEM) ? { purl: identifierOf(model, PURL_SYSTEM) } : {}),
          components: model ? this.componentsOf(model) : [],
        },
      ];
    });
  }

  // ---- inside ----

  /**
   * Said early and in words, and recorded: the records service would refuse these callers too
   * (roles.ts, byRoleAlone), one record at a time.
   */
  private async requireRole(who: Who, need: 'keep' | 'read', action: string): Promise<void> {
    const roles = need === 'keep' ? ['biomedical-engineer'] : ['biomedical-engineer', 'security-admin'];
    if (who.system || who.roles.some((r) => roles.includes(r))) return;
    const reason = 'the equipment inventory is for biomedical engineers';
    await this.audit({ action, outcome: 'denied', who, reason });
    throw new FhirError(403, 'forbidden', reason);
  }

  private async write(who: Who, facts: DeviceFacts[], action: string, modelsInFile: DeviceDefinition[] = []): Promise<{ created: number; updated: number }> {
    const existing = new Map((await this.all<Device>(who, 'Device')).map((d) => [identifierOf(d, DEVICE_ID_SYSTEM), d]));
    const models = new Map((await this.all<DeviceDefinition>(who, 'DeviceDefinition')).map((m) => [identifierOf(m, MODEL_SYSTEM), m]));
    const entries: BundleEntry[] = [];
    const newModels = new Map<string, string>();
    let n = 0;
    // Identifiers a file gives for a model (CPE, purl), by the model's vendor and model number.
    const fileIdentifiers = new Map<string, NonNullable<DeviceDefinition['identifier']>>();
    for (const m of modelsInFile) {
      const ids = (m.identifier ?? []).filter((i) => i.system === CPE_SYSTEM || i.system === PURL_SYSTEM);
      if (m.manufacturerString && m.modelNumber && ids.length > 0) fileIdentifiers.set(modelKey(m.manufacturerString, m.modelNumber), ids);
    }
    const withIdentifiers = (model: DeviceDefinition, key: string): DeviceDefinition => {
      const add = (fileIdentifiers.get(key) ?? []).filter((i) => !(model.identifier ?? []).some((x) => x.system === i.system && x.value === i.value));
      return add.length > 0 ? { ...model, identifier: [...(model.identifier ?? []), ...add] } : model;
    };
    const modelRef = (f: DeviceFacts) => {
      const key = modelKey(f.vendor, f.model);
      const known = models.get(key);
      if (known) {
        const next = withIdentifiers(known, key);
        if (next !== known && !newModels.has(key)) {
          newModels.set(key, `DeviceDefinition/${known.id}`);
          entries.push({ resource: next, request: { method: 'PUT', url: `DeviceDefinition/${known.id}`, ifMatch: `W/"${known.meta?.versionId}"` } });
        }
        return `DeviceDefinition/${known.id}`;
      }
      if (!newModels.has(key)) {
        const fullUrl = `urn:uuid:00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`;
        newModels.set(key, fullUrl);
        entries.push({
          fullUrl,
          resource: withIdentifiers(definitionResource(f.vendor, f.model, f.deviceClass), key),
          request: { method: 'POST', url: 'DeviceDefinition' },
        });
      }
      return newModels.get(key)!;
    };
    let updated = 0;
    for (const f of facts) {
      const old = existing.get(f.deviceId);
      const resource = deviceResource(f, modelRef(f), old);
      if (old) {
        updated++;
        entries.push({ resource: { ...resource, id: old.id }, request: { method: 'PUT', url: `Device/${old.id}`, ifMatch: `W/"${old.meta?.versionId}"` } });
      } else entries.push({ resource, request: { method: 'POST', url: 'Device' } });
    }
    await processBundle(this.fhir, who, { resourceType: 'Bundle', type: 'transaction', entry: entries }, new URL('http://carewall/fhir'));
    const counts = { created: facts.length - updated, updated };
    await this.audit({ action, outcome: 'success', who, details: counts });
    return counts;
  }

  private componentsOf(model: DeviceDefinition): SbomComponent[] {
    if (!model.meta?.versionId) return sbomComponentsOf(model);
    const key = `${model.id}/${model.meta.versionId}`;
    const known = this.components.get(key);
    if (known) return known;
    const read = sbomComponentsOf(model);
    this.components.set(key, read);
    return read;
  }

  private async all<T>(who: Who, type: 'Device' | 'DeviceDefinition' | 'Location'): Promise<T[]> {
    const out: T[] = [];
    for (let offset = 0; ; offset += 1000) {
      const b = await this.fhir.search(who, type, { _count: ['1000'], _offset: [String(offset)] }, new URL(`http://carewall/fhir/${type}`));
      const page = (b.entry ?? []).map((e) => e.resource as T);
      out.push(...page);
      if (page.length < 1000) return out;
    }
  }

  private async locationsByName(who: Who): Promise<Map<string, string>> {
    return new Map((await this.all<Location>(who, 'Location')).map((l) => [(l.name ?? '').trim().toLowerCase(), `Location/${l.id}`]));
  }
}

function sbomComponentsOf(model: DeviceDefinition): SbomComponent[] {
  const data = model.extension?.find((e) => e.url === EXT.sbom)?.valueAttachment?.data;
  if (!data) return [];
  try {
    return checkSbom(JSON.parse(Buffer.from(data, 'base64').toString('utf8')));
  } catch {
    return [];
  }
}

function fleetDevice(d: Device, deviceId: string, status: DeviceStatus | undefined, vulns?: { open: number; highestSeverity?: string }): FleetDevice {
  const flags = status ? status.flags : ['not-registered'];
  return {
    id: d.id!,
    deviceId,
    vendor: d.manufacturer ?? '',
    model: d.modelNumber ?? '',
    deviceClass: d.type?.coding?.find((c) => c.system === CLASS_SYSTEM)?.code ?? '',
    lifeCritical: isLifeCritical(d),
    serial: d.serialNumber ?? null,
    location: d.location?.display ?? null,
    networkZone: d.extension?.find((e) => e.url === EXT.networkZone)?.valueString ?? null,
    windows: windowsOf(d),
    reported: status?.lastReport ? { version: status.lastReport.version, target: status.lastReport.target, at: status.lastReport.at } : null,
    flags: [...flags],
    vulnerabilities: vulns ?? { open: 0 },
  };
}
