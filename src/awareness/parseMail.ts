/**
 * mailparser, loaded on first use: it takes about 240 ms to load, which every process (the CLI's
 * every command, each test) would otherwise pay at start, though only mail handling needs it.
 */
import type { ParsedMail, SimpleParserOptions } from 'mailparser';

export async function parseMail(raw: Buffer, options: SimpleParserOptions): Promise<ParsedMail> {
  const { simpleParser } = await import('mailparser');
  return simpleParser(raw, options);
}
