/** The live monitor's detection worker: answers the MonitorService's DetectTask (detection.ts). */
import { serveWorker } from '../../util/index.js';
import { detectAlerts } from './detection.js';

// In the background: a scan takes what CPU the requests leave (util/workerTask.ts, lowerThisThread).
serveWorker(detectAlerts, { background: true });
