/** The equipment inventory (issue 25): devices and models as FHIR Device and DeviceDefinition; docs/inventory.md. */
export { InventoryService, type FleetDevice, type FleetItem, type VulnerabilityState } from './service.js';
export { CSV_COLUMNS } from './rows.js';
export { CLASS_SYSTEM, CPE_SYSTEM, DEVICE_ID_SYSTEM, EXT, HARDWARE_ID_SYSTEM, MODEL_SYSTEM, PURL_SYSTEM, windowsOf } from './device.js';
