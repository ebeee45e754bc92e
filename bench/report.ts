/** Writes a section (starting with its `## ` title line) into docs/benchmarks.md, replacing the one of the same title. */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export function writeSection(section: string): void {
  const file = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'docs', 'benchmarks.md');
  let doc = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '# Benchmarks\n';
  const title = section.split('\n')[0];
  const start = doc.indexOf(title);
  if (start >= 0) {
    const next = doc.indexOf('\n## ', start + title.length);
    doc = doc.slice(0, start) + section + (next >= 0 ? '\n' + doc.slice(next + 1) : '');
  } else doc = doc.trimEnd() + '\n\n' + section;
  fs.writeFileSync(file, doc);
  process.stderr.write(`written to ${file}\n`);
}
