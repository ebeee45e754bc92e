/**
 * What the console checks of the FHIR API's answers: the envelope (a resource of the asked type, a
 * searchset Bundle of them). The resources themselves are FHIR R4, validated by the server when
 * written (records/); the console types them with @medplum/fhirtypes, as the server does.
 */
import { Type } from '@sinclair/typebox';

export const FhirResource = <T extends string>(resourceType: T) => Type.Object({ resourceType: Type.Literal(resourceType), id: Type.Optional(Type.String()) });

export const FhirSearchset = <T extends string>(resourceType: T) =>
  Type.Object({
    resourceType: Type.Literal('Bundle'),
    total: Type.Optional(Type.Integer({ minimum: 0 })),
    entry: Type.Optional(Type.Array(Type.Object({ resource: FhirResource(resourceType) }))),
  });
