/**
 * The inventory's facts about a device, and how they sit in FHIR R4 `Device` and `DeviceDefinition`
 * (docs/inventory.md has the table). Standard elements where R4 has one; Carewall's own extensions
 * and identifier systems (urn:carewall:...) otherwise. Pure: no database here.
 */
import type { Device, DeviceDefinition, Extension } from '@medplum/fhirtypes';
import { HARDWARE_REVISION, WEEKDAYS, maintenanceWindowProblem, type MaintenanceWindow, type Weekday } from '../shared/index.js';

/** The id the device agent and the update registry know it by (`carewall updates device add --id`). */
export const DEVICE_ID_SYSTEM = 'urn:carewall:device-id';
export const HARDWARE_ID_SYSTEM = 'urn:carewall:hardware-id';
/** The update class (a delegated TUF role): infusion-pump, ventilator, ... */
export const CLASS_SYSTEM = 'urn:carewall:device-class';
/** A model: vendor and model number, as imported. */
export const MODEL_SYSTEM = 'urn:carewall:device-model';
export const CPE_SYSTEM = 'urn:carewall:cpe';
export const PURL_SYSTEM = 'urn:carewall:purl';
export const SAFETY_SYSTEM = 'urn:carewall:safety';
export const EXT = {
  networkZone: 'urn:carewall:extension:network-zone',
  maintenanceWindow: 'urn:carewall:extension:maintenance-window',
  sbom: 'urn:carewall:extension:sbom',
  mds2: 'urn:carewall:extension:mds2',
} as const;

export interface DeviceFacts {
  deviceId: string;
  vendor: string;
  model: string;
  serial?: string;
  hardwareId: string;
  hardwareRevision?: string;
  deviceClass: string;
  lifeCritical: boolean;
  /** Location/<id> and its name. */
  location?: { reference: string; name: string };
  networkZone?: string;
  windows: MaintenanceWindow[];
}

export const modelKey = (vendor: string, model: string) => `${vendor.trim().toLowerCase()}|${model.trim().toLowerCase()}`;

/** The facts written over `existing` (a re-import keeps what the file does not say). */
export function deviceResource(f: DeviceFacts, definitionRef: string, existing?: Device): Device {
  const keepIds = (existing?.identifier ?? []).filter((i) => i.system !== DEVICE_ID_SYSTEM && i.system !== HARDWARE_ID_SYSTEM);
  const keepExt = (existing?.extension ?? []).filter((e) => e.url !== EXT.networkZone && e.url !== EXT.maintenanceWindow);
  // The only version a device's record holds (the software's comes from its signed manifests).
  const revision = f.hardwareRevision ?? existing?.version?.find((v) => v.type?.text === HARDWARE_REVISION)?.value;
  const keepSafety = (existing?.safety ?? []).filter((s) => !s.coding?.some((c) => c.system === SAFETY_SYSTEM));
  return {
    ...(existing ?? {}),
    resourceType: 'Device',
    status: existing?.status ?? 'active',
    identifier: [{ system: DEVICE_ID_SYSTEM, value: f.deviceId }, { system: HARDWARE_ID_SYSTEM, value: f.hardwareId }, ...keepIds],
    definition: { reference: definitionRef },
    manufacturer: f.vendor,
    modelNumber: f.model,
    ...(f.serial ? { serialNumber: f.serial } : {}),
    type: { coding: [{ system: CLASS_SYSTEM, code: f.deviceClass }], text: f.deviceClass },
    safety: [...(f.lifeCritical ? [{ coding: [{ system: SAFETY_SYSTEM, code: 'life-critical' }], text: 'life-critical' }] : []), ...keepSafety],
    ...(revision ? { version: [{ type: { text: HARDWARE_REVISION }, value: revision }] } : {}),
    ...(f.location ? { location: { reference: f.location.reference, display: f.location.name } } : {}),
    extension: [...(f.networkZone ? [{ url: EXT.networkZone, valueString: f.networkZone }] : []), ...f.windows.map(windowExtension), ...keepExt],
  };
}

export function definitionResource(vendor: string, model: string, deviceClass: string): DeviceDefinition {
  return {
    resourceType: 'DeviceDefinition',
    identifier: [{ system: MODEL_SYSTEM, value: modelKey(vendor, model) }],
    manufacturerString: vendor,
    modelNumber: model,
    deviceName: [{ name: `${vendor} ${model}`, type: 'manufacturer-name' }],
    type: { coding: [{ system: CLASS_SYSTEM, code: deviceClass }], text: deviceClass },
  };
}

function windowExtension(w: MaintenanceWindow): Extension {
  return {
    url: EXT.maintenanceWindow,
    extension: [
      ...w.days.map((d) => ({ url: 'day', valueCode: d })),
      { url: 'start', valueTime: `${w.start}:00` },
      { url: 'end', valueTime: `${w.end}:00` },
      { url: 'timeZone', valueCode: w.timeZone },
    ],
  };
}

/** The windows a Device records; ones that do not read as windows are left out (never guessed). */
export function windowsOf(device: Device): MaintenanceWindow[] {
  return (device.extension ?? [])
    .filter((e) => e.url === EXT.maintenanceWindow)
    .flatMap((e) => {
      const part = (url: string) => (e.extension ?? []).filter((x) => x.url === url);
      const w = {
        days: part('day').map((x) => x.valueCode as Weekday),
        start: (part('start')[0]?.valueTime ?? '').slice(0, 5),
        end: (part('end')[0]?.valueTime ?? '').slice(0, 5),
        timeZone: part('timeZone')[0]?.valueCode ?? '',
      };
      return maintenanceWindowProblem(w) ? [] : [w];
    });
}

/**
 * A Device from an imported FHIR file, read as an import row (the CSV's columns): the same checks
 * and the same matching by device id as every other import. Its maintenance windows come with it.
 */
export function rowOfDevice(d: Device): { row: Record<string, string>; windows: MaintenanceWindow[] } {
  return {
    row: {
      device_id: identifierOf(d, DEVICE_ID_SYSTEM) ?? '',
      vendor: d.manufacturer ?? '',
      model: d.modelNumber ?? d.deviceName?.[0]?.name ?? '',
      serial: d.serialNumber ?? '',
      hardware_id: identifierOf(d, HARDWARE_ID_SYSTEM) ?? '',
      hardware_revision: d.version?.find((v) => v.type?.text === HARDWARE_REVISION)?.value ?? '',
      class: d.type?.coding?.find((c) => c.system === CLASS_SYSTEM)?.code ?? '',
      life_critical: isLifeCritical(d) ? 'yes' : '',
      location: d.location?.display ?? '',
      network_zone: d.extension?.find((e) => e.url === EXT.networkZone)?.valueString ?? '',
    },
    windows: windowsOf(d),
  };
}

export function isLifeCritical(d: Device): boolean {
  return (d.safety ?? []).some((s) => s.coding?.some((c) => c.system === SAFETY_SYSTEM && c.code === 'life-critical'));
}

export function identifierOf(r: { identifier?: Array<{ system?: string; value?: string }> }, system: string): string | undefined {
  return r.identifier?.find((i) => i.system === system)?.value;
}

/** "mon thu" or "mon,thu" or "daily" → weekdays; undefined when any part is not a day. */
export function parseDays(text: string): Weekday[] | undefined {
  const t = text.trim().toLowerCase();
  if (t === 'daily') return [...WEEKDAYS];
  const days = t.split(/[\s,]+/).filter(Boolean);
  return days.length > 0 && days.every((d) => (WEEKDAYS as readonly string[]).includes(d)) ? (days as Weekday[]) : undefined;
}
