/** Runs one monitor scan and prints its summary with the peak heap seen while it ran (for the streaming test). */
import { scan } from '../../src/monitor/scan/index.js';

let peakHeap = 0;
const sample = () => (peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed));
const timer = setInterval(sample, 20);
const { summary } = await scan(process.argv[2]);
sample();
clearInterval(timer);
process.stdout.write(JSON.stringify({ events: summary.events, alerts: summary.alerts, peakHeapBytes: peakHeap }) + '\n');
