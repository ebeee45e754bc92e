export {
  MonitorService,
  monitorSettings,
  toMonitorEvent,
  DEFAULT_MONITOR,
  RESOLUTIONS,
  type MonitorSettings,
  type MonitorOptions,
  type DetectTask,
  type DeadlineTimer,
  type WorkerModule,
  type StoredAlert,
  type CaseSummary,
  type CaseDetail,
  type StoredWatchItem,
  type PatternChange,
  type PatternWeightRow,
} from './service.js';
export { monitorMigrations } from './schema.js';
