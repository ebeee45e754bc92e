/**
 * What the console checks of the FHIR API's answers: the envelope (a resource of the asked type, a
 * searchset Bundle of them) and, of each resource type a screen shows, the elements it reads, with
 * the R4 datatypes they have (a `code` that is a CodeableConcept, a `birthDate` that is a string).
 *
 * Why only those elements: the server validated each resource against FHIR R4 when it was written
 * (records/), and checking every element of every type in the browser would mean shipping R4's
 * definitions to it. What a screen reads is what would break it, so that is what is checked: an
 * answer of another shape is a ShapeError with a sentence for the user, not a chart that throws.
 * Elements a screen does not read pass as they are (they go back to the server unchanged on an
 * update, where they are validated again). A type with no view here is checked by its envelope.
 */
import { Type, type TObject, type TSchema } from '@sinclair/typebox';

const text = Type.String();
const opt = <S extends TSchema>(schema: S) => Type.Optional(schema);
const list = <S extends TSchema>(schema: S) => Type.Optional(Type.Array(schema));

const Coding = Type.Object({ system: opt(text), code: opt(text), display: opt(text) });
const CodeableConcept = Type.Object({ coding: list(Coding), text: opt(text) });
const Reference = Type.Object({ reference: opt(text), display: opt(text) });
const Period = Type.Object({ start: opt(text), end: opt(text) });
const HumanName = Type.Object({ family: opt(text), given: list(text), text: opt(text) });
const Identifier = Type.Object({ type: opt(CodeableConcept), value: opt(text) });
const ContactPoint = Type.Object({ system: opt(text), value: opt(text) });
const Address = Type.Object({ line: list(text), postalCode: opt(text), city: opt(text) });
const Quantity = Type.Object({ value: opt(Type.Number()), unit: opt(text), system: opt(text), code: opt(text), comparator: opt(text) });
const Range = Type.Object({ low: opt(Quantity), high: opt(Quantity) });

/** An observation's value and how it reads against its range: the observation's own and each component's. */
const measured = {
  code: opt(CodeableConcept),
  valueQuantity: opt(Quantity),
  valueString: opt(text),
  valueCodeableConcept: opt(CodeableConcept),
  interpretation: list(CodeableConcept),
  referenceRange: list(Range),
};

/** The elements the console reads, by resource type (web/src/screens: chart, observations, admin, audit search). */
const VIEWS: Record<string, TObject> = {
  Patient: Type.Object({
    name: list(HumanName),
    birthDate: opt(text),
    gender: opt(text),
    identifier: list(Identifier),
    telecom: list(ContactPoint),
    address: list(Address),
  }),
  Condition: Type.Object({ code: opt(CodeableConcept), clinicalStatus: opt(CodeableConcept), onsetDateTime: opt(text) }),
  AllergyIntolerance: Type.Object({ code: opt(CodeableConcept), criticality: opt(text) }),
  MedicationRequest: Type.Object({ medicationCodeableConcept: opt(CodeableConcept), status: opt(text), authoredOn: opt(text) }),
  Encounter: Type.Object({ class: opt(Coding), status: opt(text), period: opt(Period) }),
  DocumentReference: Type.Object({ type: opt(CodeableConcept), description: opt(text), date: opt(text) }),
  Observation: Type.Object({ ...measured, effectiveDateTime: opt(text), component: list(Type.Object(measured)) }),
  Practitioner: Type.Object({ name: list(HumanName) }),
  Organization: Type.Object({ name: opt(text) }),
  Location: Type.Object({ name: opt(text) }),
  PractitionerRole: Type.Object({
    active: opt(Type.Boolean()),
    practitioner: opt(Reference),
    organization: opt(Reference),
    location: list(Reference),
    period: opt(Period),
  }),
  AuditEvent: Type.Object({
    type: opt(Coding),
    subtype: list(Coding),
    recorded: opt(text),
    outcome: opt(text),
    agent: list(Type.Object({ requestor: opt(Type.Boolean()), who: opt(Reference) })),
    entity: list(Type.Object({ what: opt(Reference) })),
  }),
};

export const FhirResource = <T extends string>(resourceType: T) => {
  const envelope = Type.Object({ resourceType: Type.Literal(resourceType), id: Type.Optional(Type.String()) });
  const view = VIEWS[resourceType];
  return view ? Type.Composite([envelope, view]) : envelope;
};

export const FhirSearchset = <T extends string>(resourceType: T) =>
  Type.Object({
    resourceType: Type.Literal('Bundle'),
    total: Type.Optional(Type.Integer({ minimum: 0 })),
    entry: Type.Optional(Type.Array(Type.Object({ resource: FhirResource(resourceType) }))),
  });
