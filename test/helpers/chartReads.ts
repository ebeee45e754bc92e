/**
 * Chart reads appended straight to the audit log, as the record service writes them, in one batch:
 * a history for the live monitor's tests without serving thousands of requests.
 */
import { encodeLeaf, type AuditRecord } from '../../src/audit/record.js';
import { searchColumnsOf } from '../../src/audit/searchColumns.js';
import type { Carewall } from '../../src/runtime.js';

export async function appendChartReads(
  cw: Carewall,
  user: AuditRecord['user'],
  reads: Array<{ patient: string; time: number }>,
  ip = '10.9.0.7',
): Promise<void> {
  const records: AuditRecord[] = reads.map(({ patient, time }) => ({
    time: new Date(time).toISOString(),
    action: 'read',
    outcome: 'success',
    user,
    patient,
    resource: { type: 'Patient', id: patient },
    client: { ip },
  }));
  await cw.audit.log.appendBatch(
    records.map((r) => encodeLeaf(r)),
    records.map(searchColumnsOf),
  );
}
