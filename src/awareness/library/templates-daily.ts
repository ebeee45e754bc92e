/**
 * Shipped simulations, part one: the everyday lures of a clinic (a lab result, the rota, the
 * scanner, a parcel, a password). Sender domains are fictional look-alikes under .example and
 * .test; every tell's marker appears verbatim in the rendered message (the test checks it).
 */
import type { PhishTemplate } from './types.js';

export const LAB_RESULT_READY: PhishTemplate = {
  id: 'lab-result-ready',
  name: 'Lab result ready for review',
  difficulty: 1,
  fromName: 'Lab Results Notification',
  fromAddress: 'noreply@labresults-notify.example',
  subject: 'URGENT: New lab result awaiting your review',
  html: `<p>Dear User,</p>
<p>A new laboratory result has been released for a patient under your care and requires review.</p>
<p>Requested by: {{.FirstName}} {{.LastName}} ({{.Department}})</p>
<p>Results not reviewed within 24 hours will be deleted from the system.</p>
<p><a href="{{.URL}}">https://results.pathology-lab.example/review</a></p>
<p>Pathology Results Service</p>
{{.Tracker}}`,
  text: `Dear User,

A new laboratory result has been released for a patient under your care and requires review.

Requested by: {{.FirstName}} {{.LastName}} ({{.Department}})

Results not reviewed within 24 hours will be deleted from the system.

Review the result: {{.URL}}

Pathology Results Service`,
  landingPage: 'sign-in-portal',
  lesson: 'links-and-hovering',
  tells: [
    {
      in: 'from',
      marker: 'labresults-notify.example',
      explanation: 'Results come from your own lab system, inside your clinic. This address belongs to an outside domain.',
    },
    { in: 'body', marker: 'Dear User', explanation: 'Your own systems know your name. A generic greeting means the sender does not.' },
    {
      in: 'body',
      marker: 'will be deleted from the system',
      explanation: 'Lab results are never deleted for being unread. The threat is there to make you click before you think.',
    },
    {
      in: 'body',
      marker: 'https://results.pathology-lab.example/review',
      explanation: 'The link shows one address but leads to another. Hover over it (or press and hold on a phone) to see where it really goes.',
    },
  ],
};

export const ROTA_CHANGE: PhishTemplate = {
  id: 'rota-change',
  name: 'Rota change for next week',
  difficulty: 2,
  fromName: 'Rota Team',
  fromAddress: 'rota@staff-rostering.example',
  subject: 'Your rota for next week has changed',
  html: `<p>Hi {{.FirstName}},</p>
<p>Changes have been made to your shifts in {{.Department}} for next week, including one weekend shift.</p>
<p>Please confirm the updated rota by end of today so that cover can be arranged.</p>
<p><a href="{{.URL}}">View my updated rota</a></p>
<p>Sign in with your usual clinic account to see the changes.</p>
<p>Thanks,<br>Rota Team</p>
{{.Tracker}}`,
  text: `Hi {{.FirstName}},

Changes have been made to your shifts in {{.Department}} for next week, including one weekend shift.

Please confirm the updated rota by end of today so that cover can be arranged.

View my updated rota: {{.URL}}

Sign in with your usual clinic account to see the changes.

Thanks,
Rota Team`,
  landingPage: 'sign-in-portal',
  lesson: 'credential-requests',
  tells: [
    { in: 'from', marker: 'staff-rostering.example', explanation: 'Your rota comes from your manager or your own rota system, not from an outside address.' },
    {
      in: 'body',
      marker: 'by end of today',
      explanation: 'A short deadline leaves no time to check. A real rota change can wait for you to ask your manager.',
    },
    {
      in: 'body',
      marker: 'Sign in with your usual clinic account',
      explanation: 'An outside site asking for your clinic password is the goal of most phishing. Open the rota the way you always do instead.',
    },
  ],
};

export const SHARED_SCAN: PhishTemplate = {
  id: 'shared-scan',
  name: 'Scanned document from the copier',
  difficulty: 1,
  fromName: 'Scan to Email',
  fromAddress: 'scanner@copier-devices.example',
  subject: 'Scanned document from MFP-Reception',
  html: `<p>Hello {{.Email}},</p>
<p>You have received 1 new scanned document.</p>
<p>Pages: 4<br>Type: PDF<br>File: Scan_0427.pdf (attached)</p>
<p>The file was too large for your mailbox. <a href="{{.URL}}">Click here to open the document</a>.</p>
<p>This message was sent automatically by the device. Do not reply.</p>
{{.Tracker}}`,
  text: `Hello {{.Email}},

You have received 1 new scanned document.

Pages: 4
Type: PDF
File: Scan_0427.pdf (attached)

The file was too large for your mailbox. Open the document: {{.URL}}

This message was sent automatically by the device. Do not reply.`,
  landingPage: 'document-viewer',
  lesson: 'attachments',
  tells: [
    { in: 'from', marker: 'copier-devices.example', explanation: 'The clinic copier sends from inside the clinic. An outside address cannot be your scanner.' },
    {
      in: 'body',
      marker: 'Scan_0427.pdf (attached)',
      explanation: 'The message says a file is attached, then sends you to a link. Did you scan anything? If not, the scan is not yours.',
    },
    { in: 'body', marker: 'Click here to open the document', explanation: 'Link text that hides where it leads. Hover over it to see the real address first.' },
  ],
};

export const PARCEL_DELIVERY: PhishTemplate = {
  id: 'parcel-delivery',
  name: 'Parcel could not be delivered',
  difficulty: 1,
  fromName: 'ParcelFast Delivery',
  fromAddress: 'tracking@parcelfast-deliveries.test',
  subject: 'Your parcel could not be delivered - action required',
  html: `<p>Dear Customer,</p>
<p>We attempted to deliver a parcel addressed to {{.FirstName}} {{.LastName}} at your workplace but nobody was available to sign for it.</p>
<p>A redelivery fee of 1.45 must be paid within 48 hours or the parcel will be returned to the sender.</p>
<p><a href="{{.URL}}">Rearrange my delivery</a></p>
<p>Tracking number: PF-00418-77</p>
{{.Tracker}}`,
  text: `Dear Customer,

We attempted to deliver a parcel addressed to {{.FirstName}} {{.LastName}} at your workplace but nobody was available to sign for it.

A redelivery fee of 1.45 must be paid within 48 hours or the parcel will be returned to the sender.

Rearrange my delivery: {{.URL}}

Tracking number: PF-00418-77`,
  landingPage: 'parcel-redelivery',
  lesson: 'parcel-scams',
  tells: [
    { in: 'body', marker: 'Dear Customer', explanation: 'A courier with your parcel knows your name; this greeting fits anyone.' },
    {
      in: 'body',
      marker: 'A redelivery fee of 1.45',
      explanation: 'A small fee is the hook: it asks for your card details, and those are worth far more than 1.45 to the sender.',
    },
    {
      in: 'from',
      marker: 'parcelfast-deliveries.test',
      explanation: 'A look-alike courier domain. Check a delivery on the courier site you type in yourself.',
    },
  ],
};

export const PASSWORD_EXPIRY: PhishTemplate = {
  id: 'password-expiry',
  name: 'Password expires today',
  difficulty: 2,
  fromName: 'IT Service Desk',
  fromAddress: 'servicedesk@it-support-desk.example',
  subject: 'Your password expires today',
  html: `<p>Hello {{.FirstName}},</p>
<p>The password for {{.Email}} expires today. To avoid losing access to email and clinical systems, you can keep your current password using the link below.</p>
<p><a href="{{.URL}}">Keep my current password</a></p>
<p>If no action is taken you will be signed out of all devices at 17:00.</p>
<p>IT Service Desk</p>
{{.Tracker}}`,
  text: `Hello {{.FirstName}},

The password for {{.Email}} expires today. To avoid losing access to email and clinical systems, you can keep your current password using the link below.

Keep my current password: {{.URL}}

If no action is taken you will be signed out of all devices at 17:00.

IT Service Desk`,
  landingPage: 'sign-in-portal',
  lesson: 'password-expiry-and-mfa',
  tells: [
    {
      in: 'body',
      marker: 'Keep my current password',
      explanation: 'No real system lets you keep an expiring password through an emailed link. Change a password only in the system itself.',
    },
    { in: 'body', marker: 'signed out of all devices at 17:00', explanation: 'A deadline a few hours away is meant to rush you past checking.' },
    { in: 'from', marker: 'it-support-desk.example', explanation: 'Your IT team writes from the clinic domain. This one only sounds like it.' },
  ],
};

export const DAILY_TEMPLATES: readonly PhishTemplate[] = [LAB_RESULT_READY, ROTA_CHANGE, SHARED_SCAN, PARCEL_DELIVERY, PASSWORD_EXPIRY];
