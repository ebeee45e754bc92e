/**
 * Shipped simulations, part two: lures that lean on money or authority (a supplier's invoice,
 * payroll, the board, a complaint, a device recall). The difficulty 3 ones are written the way a
 * careful attacker writes: correct spelling, a plausible sender, tells that only a trained eye sees.
 * Names, brands and domains are fictional.
 */
import type { PhishTemplate } from './types.js';

export const SUPPLIER_INVOICE: PhishTemplate = {
  id: 'supplier-invoice',
  name: 'Overdue invoice from a supplier',
  difficulty: 2,
  fromName: 'MediSupply Accounts',
  fromAddress: 'accounts@medisupply-invoicing.example',
  subject: 'Invoice INV-20931 overdue - {{.Department}}',
  html: `<p>Dear {{.FirstName}},</p>
<p>Please find invoice INV-20931 for gloves and consumables supplied to {{.Department}}. Our records show this invoice is now overdue.</p>
<p>Please note that we have changed banks. The new account details are shown on the invoice; kindly update them before paying.</p>
<p><a href="{{.URL}}">View invoice INV-20931</a></p>
<p>Kind regards,<br>Accounts Receivable, MediSupply</p>
{{.Tracker}}`,
  text: `Dear {{.FirstName}},

Please find invoice INV-20931 for gloves and consumables supplied to {{.Department}}. Our records show this invoice is now overdue.

Please note that we have changed banks. The new account details are shown on the invoice; kindly update them before paying.

View invoice INV-20931: {{.URL}}

Kind regards,
Accounts Receivable, MediSupply`,
  landingPage: 'invoice-portal',
  lesson: 'invoices-and-payments',
  tells: [
    {
      in: 'body',
      marker: 'we have changed banks',
      explanation: 'A change of bank details by email is the classic invoice fraud. Confirm it by phone, on a number you already have.',
    },
    { in: 'body', marker: 'now overdue', explanation: 'Overdue is pressure. A real supplier chasing payment will still wait for you to check.' },
    {
      in: 'from',
      marker: 'medisupply-invoicing.example',
      explanation: "Not the domain your supplier's invoices usually come from: compare with an earlier invoice.",
    },
  ],
};

export const PAYROLL_CHANGE: PhishTemplate = {
  id: 'payroll-change',
  name: 'Confirm bank details for the new payroll system',
  difficulty: 2,
  fromName: 'Payroll Team',
  fromAddress: 'payroll@hr-payroll-services.example',
  subject: "Action needed: confirm your bank details before this month's pay run",
  html: `<p>Hi {{.FirstName}},</p>
<p>We are moving to a new payroll system this month. To make sure you are paid on time, all staff must confirm their bank details in the new self-service portal by Friday.</p>
<p>Staff who do not confirm may see their salary delayed.</p>
<p><a href="{{.URL}}">Confirm my details</a></p>
<p>HR and Payroll</p>
{{.Tracker}}`,
  text: `Hi {{.FirstName}},

We are moving to a new payroll system this month. To make sure you are paid on time, all staff must confirm their bank details in the new self-service portal by Friday.

Staff who do not confirm may see their salary delayed.

Confirm my details: {{.URL}}

HR and Payroll`,
  landingPage: 'payroll-details',
  lesson: 'credential-requests',
  tells: [
    {
      in: 'body',
      marker: 'confirm their bank details',
      explanation: 'Payroll already has your bank details. Asking you to type them in again, on a link, is how pay is diverted.',
    },
    { in: 'body', marker: 'may see their salary delayed', explanation: 'A threat to your pay is meant to stop you from checking first.' },
    { in: 'from', marker: 'hr-payroll-services.example', explanation: 'Payroll is part of your clinic or its known provider; this domain is neither.' },
  ],
};

export const BOARD_MESSAGE: PhishTemplate = {
  id: 'board-message',
  name: 'Confidential board paper from the chair',
  difficulty: 3,
  fromName: 'Dr Helen Carter',
  fromAddress: 'h.carter@clinic-governance.example',
  subject: "Board paper for Thursday's meeting",
  html: `<p>{{.FirstName}},</p>
<p>Could you read the board paper on the {{.Department}} reorganisation before Thursday? I would value your view on the staffing section before it goes to the full board.</p>
<p><a href="{{.URL}}">Board paper - reorganisation (draft 3).pdf</a></p>
<p>It is not yet final, so please don't discuss it with colleagues until it has been announced. I am in meetings all day and can't take calls, but a reply here is fine.</p>
<p>Thanks,<br>Helen</p>
<p>Sent from my phone</p>
{{.Tracker}}`,
  text: `{{.FirstName}},

Could you read the board paper on the {{.Department}} reorganisation before Thursday? I would value your view on the staffing section before it goes to the full board.

Board paper - reorganisation (draft 3).pdf: {{.URL}}

It is not yet final, so please don't discuss it with colleagues until it has been announced. I am in meetings all day and can't take calls, but a reply here is fine.

Thanks,
Helen

Sent from my phone`,
  landingPage: 'document-viewer',
  lesson: 'urgency-and-authority',
  tells: [
    {
      in: 'body',
      marker: "please don't discuss it with colleagues",
      explanation: 'Secrecy stops you from asking the one person who would tell you it is fake. Real board papers arrive through the usual route.',
    },
    { in: 'body', marker: "can't take calls", explanation: 'Ruling out a phone call blocks the easiest way to check who is writing.' },
    {
      in: 'from',
      marker: 'clinic-governance.example',
      explanation: "The name is right; the domain is not your clinic's. Attackers copy names from the clinic's website.",
    },
  ],
};

export const PATIENT_COMPLAINT: PhishTemplate = {
  id: 'patient-complaint',
  name: 'A patient complaint that names you',
  difficulty: 3,
  fromName: 'Patient Experience Team',
  fromAddress: 'patient.experience@clinic-feedback.example',
  subject: 'Complaint received - reference PX-3318',
  html: `<p>Dear {{.FirstName}} {{.LastName}},</p>
<p>A formal complaint has been received that names you in connection with an appointment in {{.Department}} last month.</p>
<p>Under the complaints procedure you may read the complaint and add your account before it is reviewed. The letter is held on the secure document portal:</p>
<p><a href="{{.URL}}">PX-3318 complaint letter (PDF)</a></p>
<p>Patient Experience Team</p>
{{.Tracker}}`,
  text: `Dear {{.FirstName}} {{.LastName}},

A formal complaint has been received that names you in connection with an appointment in {{.Department}} last month.

Under the complaints procedure you may read the complaint and add your account before it is reviewed. The letter is held on the secure document portal:

PX-3318 complaint letter (PDF): {{.URL}}

Patient Experience Team`,
  landingPage: 'document-viewer',
  lesson: 'attachments',
  tells: [
    {
      in: 'body',
      marker: 'names you',
      explanation: 'Worry about a complaint is a strong hook. A real complaint about you reaches you through your manager, not a link.',
    },
    {
      in: 'body',
      marker: 'secure document portal',
      explanation: 'A "secure portal" that then asks for your email password is not secure, and not the clinic\'s.',
    },
    {
      in: 'from',
      marker: 'clinic-feedback.example',
      explanation: "Close to a clinic address, but not yours. Look at the domain after the @, not the team's name.",
    },
  ],
};

export const DEVICE_RECALL: PhishTemplate = {
  id: 'device-recall',
  name: 'Field safety notice for a medical device',
  difficulty: 3,
  fromName: 'Vitalis Medical Field Safety',
  fromAddress: 'fsn@vitalis-medlcal.example',
  subject: 'Field Safety Notice FSN-2026-014: VP-200 infusion pump software',
  html: `<p>Dear {{.Position}},</p>
<p>Vitalis Medical has issued a field safety notice for VP-200 infusion pumps running software 4.2, used in {{.Department}}. Under some conditions the pump may not raise an occlusion alarm.</p>
<p>Our records list your site as using affected devices. Each site must acknowledge the notice through the customer portal within 5 working days.</p>
<p><a href="{{.URL}}">Acknowledge FSN-2026-014</a></p>
<p>Regulatory Affairs, Vitalis Medical</p>
{{.Tracker}}`,
  text: `Dear {{.Position}},

Vitalis Medical has issued a field safety notice for VP-200 infusion pumps running software 4.2, used in {{.Department}}. Under some conditions the pump may not raise an occlusion alarm.

Our records list your site as using affected devices. Each site must acknowledge the notice through the customer portal within 5 working days.

Acknowledge FSN-2026-014: {{.URL}}

Regulatory Affairs, Vitalis Medical`,
  landingPage: 'sign-in-portal',
  lesson: 'checking-the-sender',
  tells: [
    {
      in: 'from',
      marker: 'vitalis-medlcal.example',
      explanation: 'Read the domain letter by letter: "medlcal" has an l where the i should be. Look-alike domains are made to pass a glance.',
    },
    {
      in: 'body',
      marker: 'acknowledge the notice through the customer portal',
      explanation:
        "Safety notices go to the clinic's device or safety lead and are published by the regulator; check there rather than signing in from a link.",
    },
  ],
};

export const AUTHORITY_TEMPLATES: readonly PhishTemplate[] = [SUPPLIER_INVOICE, PAYROLL_CHANGE, BOARD_MESSAGE, PATIENT_COMPLAINT, DEVICE_RECALL];
