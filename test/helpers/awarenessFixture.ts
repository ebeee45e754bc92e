/**
 * Staff awareness fixtures for tests: an SMTP relay in process (smtp-server, STARTTLS with its own
 * certificate, no AUTH) that keeps what it is given, a staff file, a reported message that is not a
 * simulation, and the tracked link of the message someone received.
 */
import assert from 'node:assert/strict';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface Received {
  to: string[];
  raw: Buffer;
}

export function relay(received: Received[]): Promise<{ server: SMTPServer; port: number; close: () => Promise<void> }> {
  const server = new SMTPServer({
    authOptional: true,
    // Carewall keeps its pooled connection to the relay open; on close the relay ends it at once
    // instead of waiting smtp-server's default 30 s for the client to leave.
    closeTimeout: 100,
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        received.push({ to: session.envelope.rcptTo.map((r) => r.address), raw: Buffer.concat(chunks) });
        cb();
      });
    },
    logger: false,
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        server,
        port: (server.server.address() as { port: number }).port,
        close: () => new Promise<void>((done) => server.close(() => done())),
      }),
    ),
  );
}

/** Made-up staff: three in Ward A, three in the pharmacy (departments of three are shown on their own). */
export const STAFF_CSV = `email,first_name,last_name,department,position,time_zone
ada.lindqvist@clinic.test,Ada,Lindqvist,Ward A,nurse,UTC
bert.okafor@clinic.test,Bert,Okafor,Ward A,nurse,UTC
cleo.marsh@clinic.test,Cleo,Marsh,Ward A,physician,UTC
eli.brandt@clinic.test,Eli,Brandt,Pharmacy,pharmacist,UTC
fay.moreau@clinic.test,Fay,Moreau,Pharmacy,pharmacist,UTC
gus.holm@clinic.test,Gus,Holm,Pharmacy,clerk,UTC
`;

/** A lure from a look-alike of the clinic's domain, as staff would report it (not a simulation). */
export const FOREIGN_LURE = Buffer.from(
  [
    'From: "IT Service Desk" <helpdesk@c1inic.test>',
    'To: staff@clinic.test',
    'Subject: Your mailbox is full: confirm your password today',
    'Date: Thu, 03 Dec 2026 08:15:00 +0000',
    'Message-ID: <lure-1@c1inic.test>',
    'MIME-Version: 1.0',
    'Content-Type: text/html; charset=utf-8',
    '',
    '<p>Dear user, your mailbox is full. Confirm your password at <a href="http://203.0.113.7/login">https://mail.clinic.test/</a> within 24 hours or lose your mail.</p>',
    '',
  ].join('\r\n'),
);

/** The latest message that reached `address`, and its tracked link (path only). */
export async function messageTo(received: Received[], address: string) {
  const m = [...received].reverse().find((r) => r.to.includes(address));
  assert.ok(m, `a message reached ${address}`);
  const parsed = await simpleParser(m.raw);
  const url = /href="([^"]+\/aw\/c\/[^"]+)"/.exec(String(parsed.html))?.[1];
  assert.ok(url, 'the message carries a tracked link');
  return { raw: m.raw, path: url.replace(/^https?:\/\/[^/]+/, '') };
}
