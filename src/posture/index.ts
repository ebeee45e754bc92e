/** Posture (issue 27): where the clinic stands against HHS 405(d) HICP and the HPH goals, from Carewall's own evidence. */
export type * from './types.js';
export { renderBoardReport, scorecardJson, type ScorecardExport, type ScorecardHistoryPoint } from './report.js';
