/**
 * Every reason triage can give: its stable code, its weight in the score and its sentence. One
 * table, so that docs/awareness.md ("Triage") and the code cannot drift apart on a weight, and so
 * that no sentence ever carries the message's own words or addresses (reports end up in logs and
 * tickets; a phishing message's text has no place there).
 */
import type { Reason } from './types.js';

const CATALOGUE = {
  // Authentication (mailauth). Weights are small on their own: DMARC sums up SPF and DKIM.
  'spf-pass': [0, "SPF: the sending server is allowed to send for the envelope sender's domain."],
  'spf-fail': [2, "SPF fail: the sending server is not allowed to send for the envelope sender's domain."],
  'spf-softfail': [1, "SPF softfail: the envelope sender's domain does not vouch for the sending server."],
  'spf-neutral': [0, "SPF neutral: the envelope sender's domain makes no statement about the sending server."],
  'spf-none': [0, "SPF none: the envelope sender's domain publishes no SPF record."],
  'spf-permerror': [1, "SPF permerror: the envelope sender's SPF record is broken."],
  'spf-temperror': [0, 'SPF temperror: DNS did not answer; SPF could not be checked.'],
  'spf-unverifiable': [0, 'SPF not checked: the sending server is unknown (no connection data and no usable Received header).'],
  'dkim-pass': [0, 'DKIM: a signature on the message verifies.'],
  'dkim-fail': [1, 'DKIM fail: a signature does not verify (the message was changed after signing, or the signature is forged).'],
  'dkim-none': [0, 'DKIM none: the message is not signed.'],
  'dkim-permerror': [1, 'DKIM permerror: a signature cannot be checked (missing or broken key, unsupported form).'],
  'dkim-temperror': [0, 'DKIM temperror: DNS did not answer; signatures could not be checked.'],
  'dmarc-pass': [0, "DMARC pass: the From domain's authentication is aligned."],
  'dmarc-fail': [3, 'DMARC fail: neither SPF nor DKIM authenticates the domain shown in From.'],
  'dmarc-fail-arc-vouched': [1, 'DMARC fail, but a valid ARC chain from a forwarder (mailing list) reports that it passed before forwarding.'],
  'dmarc-none': [0, 'DMARC none: the From domain publishes no DMARC policy.'],
  'dmarc-permerror': [1, "DMARC permerror: the From domain's DMARC record is broken."],
  'dmarc-temperror': [0, 'DMARC temperror: DNS did not answer; DMARC could not be checked.'],
  'dmarc-unverifiable': [0, 'DMARC not concluded: the message is unsigned and its sending server is unknown.'],
  'arc-pass': [0, 'ARC: the forwarding chain (mailing list or relay) verifies.'],
  'arc-fail': [1, 'ARC fail: the forwarding chain does not verify.'],
  'dns-unavailable': [0, 'DNS did not answer: authentication results are temperror; the verdict rests on the other checks.'],
  'spoofed-known-domain': [5, "The From domain is the clinic's or a supplier's, but the message is not authenticated by it."],
  'known-sender-authenticated': [-2, "Authenticated mail from the clinic's or a supplier's domain."],
  // The sender.
  'lookalike-sender-domain': [7, "The sender's domain imitates the clinic's or a supplier's domain."],
  // Internationalised names are ordinary in many languages: alone they need company; mixed alphabets do not.
  'punycode-sender-domain': [2, "The sender's domain is an internationalised (punycode) name."],
  'mixed-script-domain': [4, 'A sender or link domain mixes alphabets, or is written in letters that only look Latin.'],
  'reply-to-mismatch': [2, "Replies go to another organisation than the sender's."],
  'reply-to-freemail': [1, 'Replies go to a free mail service although the sender is an organisation.'],
  'display-name-staff': [5, 'The sender shows the name of a staff member but writes from an address outside the clinic.'],
  'display-name-address': [3, 'The sender shows an address from another domain as the display name.'],
  'display-name-brand': [3, "The sender shows the clinic's or a supplier's name but writes from another domain."],
  'display-name-service': [
    3,
    'The sender shows the name of a well-known service (Microsoft 365, DocuSign, DHL ...) but writes from a domain that service does not use.',
  ],
  'display-name-internal-role': [
    2,
    'The sender presents itself as an internal function (IT support, mail administrator, HR, payroll) but writes from outside.',
  ],
  // Links.
  'link-text-mismatch': [4, 'A link shows one address but leads to another domain.'],
  'link-ip-address': [3, 'A link leads to a bare IP address.'],
  'link-shortener': [2, 'A link goes through a URL shortener, which hides its destination.'],
  'link-punycode': [2, 'A link leads to an internationalised (punycode) host name.'],
  'link-lookalike': [5, "A link leads to a domain imitating the clinic's or a supplier's domain."],
  'link-userinfo': [4, 'A link hides its real host behind a user name (https://trusted.example@other.host/).'],
  'html-form': [3, 'The message body contains a form (a login page inside the mail).'],
  // Attachments.
  'attachment-executable': [5, 'An attachment is a program or script (or an archive or disk image holding one).'],
  'attachment-double-extension': [7, 'An attachment hides its real type behind a second extension (invoice.pdf.exe).'],
  'attachment-macro': [4, 'An attachment is an Office document with macros.'],
  'attachment-encrypted-archive': [4, 'An attachment is an encrypted archive, which mail filters cannot inspect.'],
  'archive-password-in-body': [2, 'The message gives the password of an attached archive.'],
  'attachment-html': [2, 'An attachment is an HTML page or SVG image (opens in the browser).'],
  'attachment-html-form': [4, 'An HTML attachment contains a form or a password field (a login page to fill in).'],
  // Script in a page or image runs when it is opened in the browser: the same power as a script file (.js, +5).
  'attachment-script': [5, 'An HTML page or SVG image attached runs script when opened (a redirect or a page built in the browser).'],
  // Fillable PDF forms use JavaScript too, so the weight is a macro's, not a program's.
  'attachment-pdf-script': [4, 'An attached PDF runs JavaScript or launches something when opened.'],
  // Bidi overrides and zero-width characters have no business in a name: they make it read as something it is not.
  'hidden-characters': [4, 'A file name or the sender name contains invisible or direction-reversing characters that disguise how it reads.'],
  'attached-message-judged': [0, 'The report carries the suspicious message as an attachment: that message is what was judged.'],
  // Language: weak on purpose, and capped (two points at most), so it never decides a verdict alone.
  'urgency-language': [1, 'The message presses for immediate action.'],
  'credential-lure': [1, 'The message asks to sign in, verify an account or confirm a password.'],
  // The combination is structural: legitimate sign-in requests link to the sender's own domain.
  'lure-link-elsewhere': [2, "The message asks to sign in or confirm details, and its links lead away from the sender's domain."],
  // Anyone can publish on these hosts and form services for free: a sign-in request pointing there is how phishing kits are hosted.
  'lure-free-hosting': [3, 'The message asks to sign in or confirm details, and a link leads to free web hosting or a form service.'],
  // Consent phishing needs no password: the link asks the reader to grant an outside app access to mail or files.
  'link-oauth-consent': [3, 'A link asks to grant an app access to the account (an OAuth consent page): legitimate consent starts in the app, not in a mail.'],
  // A code moves the link out of reach of the mail filter and onto a phone the clinic does not manage.
  'qr-code-lure': [3, 'The message asks to scan a code with a phone to sign in or confirm an account, and carries an image.'],
  // Business e-mail compromise: no link, no attachment, only a request for money from an address anyone can open.
  'bec-payment-request': [3, 'A free mail address showing a staff member or an executive asks for a payment, a transfer or gift cards, with nothing to click.'],
} as const satisfies Record<string, readonly [number, string]>;

export type ReasonCode = keyof typeof CATALOGUE;

export function reason(code: ReasonCode): Reason {
  const [weight, text] = CATALOGUE[code];
  return { code, text, weight };
}

/** The codes with their weights and sentences (for the documentation and the tests). */
export const REASON_CATALOGUE: ReadonlyArray<{ code: ReasonCode; weight: number; text: string }> = Object.entries(CATALOGUE).map(([code, [weight, text]]) => ({
  code: code as ReasonCode,
  weight,
  text,
}));

/** At this score or above the verdict is phishing; at SUSPICIOUS_AT or above, suspicious. */
export const PHISHING_AT = 7;
export const SUSPICIOUS_AT = 3;
