/**
 * The demo clinic's equipment: a few infusion pumps, a ventilator and patient monitors on its
 * wards, with maintenance windows, imported through the inventory as a clinic would (a CSV file),
 * so that the biomedical engineer's screens have a fleet to show.
 */
import type { Carewall } from '../runtime.js';
import { SYSTEM } from '../shared/index.js';

const HEADER =
  'device_id,vendor,model,serial,hardware_id,hardware_revision,class,life_critical,location,network_zone,maintenance_days,maintenance_start,maintenance_end,time_zone';

export async function seedEquipment(cw: Carewall, wards: string[]): Promise<void> {
  if (wards.length === 0) return;
  const ward = (n: number) => wards[n % wards.length];
  const rows = [
    ['pump-01', 'Acme Medical', 'Infusa 500', 'IN5-24-0001', 'HW-IN5-B', 'B', 'infusion-pump', 'yes', ward(0), 'med-devices', 'tue thu', '02:00', '04:00'],
    ['pump-02', 'Acme Medical', 'Infusa 500', 'IN5-24-0002', 'HW-IN5-B', 'B', 'infusion-pump', 'yes', ward(0), 'med-devices', 'tue thu', '02:00', '04:00'],
    ['pump-03', 'Acme Medical', 'Infusa 500', 'IN5-24-0003', 'HW-IN5-B', 'B', 'infusion-pump', 'yes', ward(1), 'med-devices', 'tue thu', '02:00', '04:00'],
    ['vent-01', 'Breathe Systems', 'AirLife 2', 'AL2-0441', 'HW-AL2', '3', 'ventilator', 'yes', ward(1), 'med-devices', 'sun', '03:00', '05:00'],
    ['monitor-01', 'Vista Monitors', 'Vista 12', 'V12-9001', 'HW-V12', 'A', 'patient-monitor', 'no', ward(0), 'med-devices', 'daily', '01:00', '03:00'],
    ['monitor-02', 'Vista Monitors', 'Vista 12', 'V12-9002', 'HW-V12', 'A', 'patient-monitor', 'no', ward(2), 'med-devices', 'daily', '01:00', '03:00'],
  ];
  const csv = [HEADER, ...rows.map((r) => [...r, 'Europe/Berlin'].map((v) => `"${v.replace(/"/g, '""')}"`).join(','))].join('\n');
  await cw.inventory.importCsv(SYSTEM, csv);
}
