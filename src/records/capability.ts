/** The CapabilityStatement, generated from the same tables the server runs on. */
import type { CapabilityStatement, CapabilityStatementRestResource, ResourceType } from '@medplum/fhirtypes';
import { SUPPORTED_TYPES } from '../shared/index.js';
import { includesFor, revIncludesFor } from './include.js';
import { paramsFor } from './searchParams.js';

const BULK_DATA = 'http://hl7.org/fhir/uv/bulkdata';

/**
 * What this server does, and only that: every interaction, search parameter and operation listed
 * here answers. `tokenUrl` is the SMART token endpoint for system clients (absent when the server's
 * public address is not configured, as discovery then says too).
 */
export function capabilityStatement(baseUrl: string, version: string, tokenUrl?: string): CapabilityStatement {
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: new Date().toISOString(),
    kind: 'instance',
    software: { name: 'Carewall', version },
    implementation: { description: 'Carewall FHIR R4 record service', url: `${baseUrl}/fhir` },
    fhirVersion: '4.0.1',
    format: ['application/fhir+json', 'json'],
    instantiates: [`${BULK_DATA}/CapabilityStatement/bulk-data`],
    rest: [
      {
        mode: 'server',
        security: {
          description:
            'Bearer tokens from POST /api/session (staff) or from the SMART Backend Services token endpoint (system clients); every interaction is authorized per user',
          service: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/restful-security-service', code: 'SMART-on-FHIR' }] }],
          ...(tokenUrl
            ? {
                extension: [
                  { url: 'http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris', extension: [{ url: 'token', valueUri: tokenUrl }] },
                ],
              }
            : {}),
        },
        interaction: [{ code: 'transaction' }, { code: 'batch' }],
        operation: [{ name: 'export', definition: `${BULK_DATA}/OperationDefinition/export` }],
        compartment: ['http://hl7.org/fhir/CompartmentDefinition/patient'],
        resource: [
          ...SUPPORTED_TYPES.map((type): CapabilityStatementRestResource => ({
            type: type as ResourceType,
            versioning: 'versioned',
            readHistory: true,
            updateCreate: false,
            conditionalCreate: true,
            conditionalUpdate: true,
            conditionalDelete: 'not-supported',
            interaction: ['read', 'vread', 'update', 'delete', 'history-instance', 'history-type', 'create', 'search-type'].map((code) => ({
              code: code as 'read',
            })),
            searchInclude: includesFor(type),
            searchRevInclude: revIncludesFor(type),
            searchParam: [
              { name: '_id', type: 'token' as const, documentation: 'Resource id' },
              { name: '_lastUpdated', type: 'date' as const, documentation: 'When the current version was written' },
              { name: '_has', type: 'special' as const, documentation: 'Reverse chaining: resources referred to by others matching a search' },
              { name: '_summary', type: 'token' as const, documentation: 'count: the total alone' },
              { name: '_total', type: 'token' as const, documentation: 'none, estimate or accurate' },
              {
                name: '_elements',
                type: 'special' as const,
                documentation: 'Root elements to return (also on read); mandatory and modifier elements kept; SUBSETTED',
              },
              ...paramsFor(type).map((p) => ({ name: p.name, type: p.fhirType, documentation: p.documentation })),
            ],
            ...(type === 'Patient' ? { operation: [{ name: 'export', definition: `${BULK_DATA}/OperationDefinition/patient-export` }] } : {}),
            // Group level: over the Group's members the requester may see (bulk/exportRead.ts).
            ...(type === 'Group' ? { operation: [{ name: 'export', definition: `${BULK_DATA}/OperationDefinition/group-export` }] } : {}),
          })),
          // The audit log as IHE BALP AuditEvents (privacy officers): searched and read, never written through FHIR.
          {
            type: 'AuditEvent' as ResourceType,
            interaction: [{ code: 'read' as const }, { code: 'search-type' as const }],
            searchParam: [
              { name: 'patient', type: 'reference' as const, documentation: 'The patient the access concerned' },
              { name: 'agent', type: 'reference' as const, documentation: 'Practitioner/<id> or an account id' },
              { name: 'action', type: 'token' as const, documentation: 'C, R, U, D or E' },
              { name: 'subtype', type: 'token' as const, documentation: 'The interaction (read, search, update...)' },
              { name: 'outcome', type: 'token' as const, documentation: 'The outcome code' },
              { name: 'date', type: 'date' as const, documentation: 'When it happened' },
              { name: '_summary', type: 'token' as const, documentation: 'count: the total alone, from maintained counts at any size of the log' },
            ],
          },
        ],
      },
    ],
  };
}
