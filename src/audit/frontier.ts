import { EMPTY_ROOT, nodeHash } from './merkle.js';

/**
 * The right edge of a tree: the complete subtrees its size decomposes into. Appending a leaf hash
 * completes the subtrees whose right edge it is (reported through onComplete: exactly the hashes
 * the database stores); the root is the frontier folded right to left. Used by appends (frontier
 * read from the database) and by verification (built from the leaves alone).
 */
export class Frontier {
  private readonly nodes = new Map<string, Buffer>();

  constructor(
    public size = 0,
    initial?: (level: number, index: number) => Buffer,
  ) {
    if (initial) for (const { level, index } of frontierNodes(size)) this.nodes.set(`${level}/${index}`, initial(level, index));
  }

  append(hash: Buffer, onComplete?: (level: number, index: number, hash: Buffer) => void): void {
    let index = this.size;
    let level = 0;
    onComplete?.(level, index, hash);
    // Each odd index completes its parent with its left sibling, which leaves the frontier.
    while (index % 2 === 1) {
      const key = `${level}/${index - 1}`;
      hash = nodeHash(this.nodes.get(key)!, hash);
      this.nodes.delete(key);
      level++;
      index = (index - 1) / 2;
      onComplete?.(level, index, hash);
    }
    this.nodes.set(`${level}/${index}`, hash);
    this.size++;
  }

  /** The stored hash of frontier node (level, index). */
  node(level: number, index: number): Buffer {
    const h = this.nodes.get(`${level}/${index}`);
    if (!h) throw new Error(`frontier: no subtree ${level}/${index}`);
    return h;
  }

  /** The complete subtrees of the right edge, largest (leftmost) first. */
  parts(): Array<{ level: number; index: number; hash: Buffer }> {
    return frontierNodes(this.size).map((p) => ({ ...p, hash: this.node(p.level, p.index) }));
  }

  root(): Buffer {
    return rootFromFrontier(this.size, (level, index) => this.nodes.get(`${level}/${index}`)!);
  }
}

/** The complete subtrees a tree of `size` leaves decomposes into, largest (leftmost) first. */
export function frontierNodes(size: number): Array<{ level: number; index: number }> {
  const out: Array<{ level: number; index: number }> = [];
  for (let level = 52; level >= 0; level--) {
    const span = 2 ** level;
    if (Math.floor(size / span) % 2 === 1) out.push({ level, index: Math.floor(size / span) - 1 });
  }
  return out;
}

/** RFC 6962 root of a tree of `size` leaves from its frontier: the subtrees folded right to left. */
export function rootFromFrontier(size: number, node: (level: number, index: number) => Buffer): Buffer {
  const parts = frontierNodes(size);
  if (parts.length === 0) return EMPTY_ROOT;
  let acc = node(parts[parts.length - 1].level, parts[parts.length - 1].index);
  for (let i = parts.length - 2; i >= 0; i--) acc = nodeHash(node(parts[i].level, parts[i].index), acc);
  return acc;
}
