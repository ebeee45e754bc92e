/**
 * An import row (the CSV's columns; CycloneDX and FHIR devices are read into the same shape) checked
 * and turned into a device's facts. Every refusal names the row and the column, never the value.
 */
import { FhirError, maintenanceWindowProblem, type MaintenanceWindow } from '../shared/index.js';
import { parseDays, type DeviceFacts } from './device.js';

/** The columns of a CSV import (docs/inventory.md); a header row names them, in any order. */
export const CSV_COLUMNS = [
  'device_id',
  'vendor',
  'model',
  'serial',
  'hardware_id',
  'hardware_revision',
  'class',
  'life_critical',
  'location',
  'network_zone',
  'maintenance_days',
  'maintenance_start',
  'maintenance_end',
  'time_zone',
] as const;
export const REQUIRED = ['device_id', 'vendor', 'model', 'hardware_id', 'class'] as const;
export const MAX_ROWS = 5000;

/** One row's facts; a clear error naming the row and the column, never the value. */
export function rowFacts(r: Record<string, string>, row: number, locations: Map<string, string>, what = 'row'): DeviceFacts {
  const at = (col: string, problem: string) => new FhirError(400, 'invalid', `${what} ${row}: ${col}: ${problem}`);
  const v = (c: string) => (r[c] ?? '').trim();
  for (const c of REQUIRED) if (!v(c)) throw at(c, 'required');
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(v('device_id'))) throw at('device_id', 'letters, digits, . _ - (up to 64)');
  if (!/^[a-z0-9]+(-[a-z0-9]+)*$/.test(v('class')) || v('class').length > 64) throw at('class', 'lower-case letters, digits and hyphens (the update class)');
  if (!/^[\x21-\x7e]{1,128}$/.test(v('hardware_id'))) throw at('hardware_id', 'printable, no spaces, up to 128');
  for (const c of ['vendor', 'model', 'serial', 'hardware_revision', 'network_zone']) if (v(c).length > 200) throw at(c, 'at most 200 characters');
  const lc = v('life_critical').toLowerCase();
  if (!['', 'yes', 'no', 'true', 'false'].includes(lc)) throw at('life_critical', 'yes or no');
  let location: DeviceFacts['location'];
  if (v('location')) {
    const ref = locations.get(v('location').toLowerCase());
    if (!ref) throw at('location', 'no location of that name in the clinic directory');
    location = { reference: ref, name: v('location') };
  }
  const windows: MaintenanceWindow[] = [];
  if (v('maintenance_days') || v('maintenance_start') || v('maintenance_end') || v('time_zone')) {
    const days = parseDays(v('maintenance_days'));
    if (!days) throw at('maintenance_days', 'days as mon tue wed thu fri sat sun, or daily');
    const w = { days, start: v('maintenance_start'), end: v('maintenance_end'), timeZone: v('time_zone') };
    const problem = maintenanceWindowProblem(w);
    if (problem) throw at('maintenance window', problem);
    windows.push(w);
  }
  return {
    deviceId: v('device_id'),
    vendor: v('vendor'),
    model: v('model'),
    ...(v('serial') ? { serial: v('serial') } : {}),
    hardwareId: v('hardware_id'),
    ...(v('hardware_revision') ? { hardwareRevision: v('hardware_revision') } : {}),
    deviceClass: v('class'),
    lifeCritical: lc === 'yes' || lc === 'true',
    ...(location ? { location } : {}),
    ...(v('network_zone') ? { networkZone: v('network_zone') } : {}),
    windows,
  };
}
