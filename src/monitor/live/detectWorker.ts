/** The live monitor's detection worker: answers the MonitorService's DetectTask (detection.ts). */
import { serveWorker } from '../../util/index.js';
import { detectAlerts } from './detection.js';

serveWorker(detectAlerts);
