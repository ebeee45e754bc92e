/** The CapabilityStatement, generated from the same tables the server runs on. */
import type { CapabilityStatement, ResourceType } from '@medplum/fhirtypes';
import { SUPPORTED_TYPES } from '../shared/index.js';
import { includesFor, revIncludesFor } from './include.js';
import { paramsFor } from './searchParams.js';

export function capabilityStatement(baseUrl: string, version: string): CapabilityStatement {
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: new Date().toISOString(),
    kind: 'instance',
    software: { name: 'Carewall', version },
    implementation: { description: 'Carewall FHIR R4 record service', url: `${baseUrl}/fhir` },
    fhirVersion: '4.0.1',
    format: ['application/fhir+json', 'json'],
    rest: [
      {
        mode: 'server',
        security: {
          description: 'Bearer tokens from POST /api/session; every interaction is authorized per user',
        },
        interaction: [{ code: 'transaction' }, { code: 'batch' }],
        compartment: ['http://hl7.org/fhir/CompartmentDefinition/patient'],
        resource: SUPPORTED_TYPES.map((type) => ({
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
            { name: '_id', type: 'token', documentation: 'Resource id' },
            { name: '_lastUpdated', type: 'date', documentation: 'When the current version was written' },
            ...paramsFor(type).map((p) => ({ name: p.name, type: p.fhirType, documentation: p.documentation })),
          ],
        })),
      },
    ],
  };
}
