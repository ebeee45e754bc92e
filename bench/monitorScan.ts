/**
 * Child process of bench/monitor.ts: one scan, measured alone (peak RSS and heap of this process
 * only). Prints the summary and the memory figures as one JSON line.
 */
import { scan } from '../src/monitor/scan/index.js';

let peakHeap = 0;
let peakRss = 0;
const sample = () => {
  const m = process.memoryUsage();
  peakHeap = Math.max(peakHeap, m.heapUsed);
  peakRss = Math.max(peakRss, m.rss);
};
const timer = setInterval(sample, 50);
const { alerts, summary } = await scan(process.argv[2]);
sample();
clearInterval(timer);
process.stdout.write(
  JSON.stringify({ summary, alerts, peakHeapBytes: peakHeap, peakRssBytes: Math.max(peakRss, process.resourceUsage().maxRSS * 1024) }) + '\n',
);
