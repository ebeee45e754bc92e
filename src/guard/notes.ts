/**
 * Ransom notes: short text (or HTML) files that tell the victim how to pay. What every family's
 * note must contain is a way to pay or make contact that the police cannot easily close (a Tor
 * address, a cryptocurrency wallet, a Tox id, an anonymous mailbox) next to the vocabulary of
 * extortion. Those two together are the strong form; the vocabulary alone (an IT memo about
 * ransomware has it too) only counts when the same note appears in several folders.
 */
import fsp from 'node:fs/promises';
import path from 'node:path';

/** Weak notes: the same note in this many folders. */
const NOTE_FOLDERS = 3;

const VOCABULARY: RegExp[] = [
  /\bencrypt(ed|ion)?\b/i,
  /\bdecrypt(ion|or|er|ed)?\b/i,
  /\bransom\b/i,
  /\bbitcoins?\b|\bbtc\b|\bmonero\b|\bxmr\b|\bcrypto ?currency\b/i,
  /\byour (files|data|documents|network|computers?)\b/i,
  /\bprivate key\b|\bunique key\b|\bdecryption key\b/i,
  /\btor browser\b|\btorproject\b/i,
  /\bpay(ment)?\b/i,
  /\bwallet\b/i,
  /\bdeadline\b|\bwithin \d+ (hours|days)\b|\b\d+ hours\b/i,
  /\b(leak|publish)(ed)?\b/i,
  /\brecover(y)?\b|\brestore\b/i,
  /\bdo not (rename|modify|delete|try)\b|\bdon'?t (rename|modify|try)\b/i,
  /\b(personal|unique|victim|client) id\b/i,
];

const CHANNELS: Array<[string, RegExp]> = [
  ['onion address', /\b[a-z2-7]{56}\.onion\b|\b[a-z2-7]{16}\.onion\b/i],
  ['bitcoin address', /\bbc1[ac-hj-np-z02-9]{11,71}\b|\b[13][a-km-zA-HJ-NP-Z1-9]{25,34}\b/],
  ['monero address', /\b4[0-9AB][1-9A-HJ-NP-Za-km-z]{93}\b/],
  ['tox id', /\b[0-9A-F]{76}\b/i],
  ['anonymous mailbox', /@(protonmail|proton|tutanota|tuta|onionmail|cock|airmail|firemail|mailfence|keemail|dnmx)\.[a-z]{2,}/i],
];

export interface NoteScore {
  vocabulary: number;
  channels: string[];
}

export function scoreNote(text: string): NoteScore {
  const sample = text.length > 32768 ? text.slice(0, 32768) : text;
  return { vocabulary: VOCABULARY.filter((r) => r.test(sample)).length, channels: CHANNELS.filter(([, r]) => r.test(sample)).map(([n]) => n) };
}

/** A note by itself: a payment or contact channel and at least three extortion terms. */
export const isStrongNote = (s: NoteScore) => s.channels.length > 0 && s.vocabulary >= 3;
/** Enough extortion terms to count when the same note turns up in several folders. */
export const isWeakNote = (s: NoteScore) => s.vocabulary >= 4;

/** Remembers the weak notes seen, by name and by content (names may be randomised), per folder. */
export class NoteTracker {
  private readonly seen = new Map<string, Set<string>>(); // note key -> folders

  /** Judges a new or changed text file: a ransom note by itself, or the same weak note in NOTE_FOLDERS folders. */
  async judge(p: string): Promise<{ signal: string; reason: string } | undefined> {
    let text: string;
    try {
      text = await fsp.readFile(p, 'utf8');
    } catch {
      return undefined;
    }
    const s = scoreNote(text);
    if (isStrongNote(s)) return { signal: `ransom note (${s.channels.join(', ')})`, reason: 'ransom note' };
    if (!isWeakNote(s)) return undefined;
    let found: { signal: string; reason: string } | undefined;
    for (const key of [`name:${path.basename(p).toLowerCase()}`, `text:${text.replace(/\s+/g, ' ').trim().slice(0, 2000)}`]) {
      const dirs = this.seen.get(key) ?? new Set<string>();
      dirs.add(path.dirname(p));
      this.seen.set(key, dirs);
      if (dirs.size >= NOTE_FOLDERS) found = { signal: `the same note with extortion vocabulary in ${dirs.size} folders`, reason: 'ransom notes' };
    }
    return found;
  }
}
