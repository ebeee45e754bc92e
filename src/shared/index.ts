/**
 * What every capability speaks: the caller (Who, roles), the resource types Carewall keeps, and the
 * FHIR error every layer throws and the HTTP layer answers with. It imports no capability, which is
 * what keeps access and records from importing each other.
 */
export { ROLES, SYSTEM, isRole, type RequestDetails, type Role, type Who } from './who.js';
export { PASSWORD_MAX, PASSWORD_MIN } from './passwordRules.js';
export { writtenName } from './humanName.js';
export {
  ADMINISTRATIVE_TYPES,
  EQUIPMENT_TYPES,
  GROUP_TYPES,
  HARDWARE_REVISION,
  ID_PATTERN,
  PATIENT_REFERENCE_PATHS,
  SUPPORTED_TYPES,
  compartmentOf,
  isPatientData,
  isSupportedType,
  valuesAt,
  type CompartmentResult,
} from './resourceTypes.js';
export { FhirError, badRequest, conflict, gone, notFound, notSupported, outcome, preconditionFailed, unprocessable, type IssueCode } from './fhirError.js';
export type { EquipmentAudit, EquipmentEvent } from './equipmentEvent.js';
export { WEEKDAYS, maintenanceWindowProblem, type MaintenanceWindow, type Weekday } from './maintenanceWindow.js';
