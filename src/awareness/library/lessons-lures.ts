/**
 * Shipped lessons, part two: one per kind of lure (attachments, authority and urgency, invoices,
 * parcels, password expiry and MFA fatigue). Same rules as part one: plain HTML, computed minutes.
 */
import { lesson } from './lessons-basics.js';
import type { Lesson } from './types.js';

export const ATTACHMENTS = lesson({
  id: 'attachments',
  title: 'Attachments and shared documents',
  html: `<h2>Files that were not expected</h2>
<p>A scan from the copier, a complaint letter, a shared document: files are part of clinic work, which is why lures pretend to be files. Ask first: was I expecting this? Did I scan something, or did someone tell me they would send it?</p>
<h2>"Attached", then a link</h2>
<p>A common trick says a file is attached, then sends you to a link because the file was "too large". The link leads to a page that asks you to sign in to see the document. Real shared files open in the system they were shared in, without a new password prompt from a page you did not open yourself.</p>
<h2>Files that ask for more</h2>
<p>Be wary of any document that, once opened, asks you to enable editing, enable content or run macros, or that arrives as a zip with a password in the message. These are ways to run a program on your computer.</p>
<h2>What to do</h2>
<ul>
<li>If you did not expect it, check with the sender by phone or in person.</li>
<li>Open shared documents from the document system itself, not from the link.</li>
<li>Report anything odd with the Report button.</li>
</ul>`,
  quiz: [
    {
      question: 'You receive "Scan_0427.pdf (attached)" from the copier, but you did not scan anything. What do you do?',
      choices: ['Open it to see what it is', 'Report it', 'Forward it to reception', 'Print it'],
      answer: 1,
      why: 'A scan you did not make is not yours. Report it so the team can check.',
    },
    {
      question: 'A document asks you to "Enable content" to view it. What does that do?',
      choices: ['Improves the display', 'May let a program run on your computer', 'Downloads fonts', 'Nothing'],
      answer: 1,
      why: 'Enabling content can run macros: small programs that attackers use to take over a computer.',
    },
    {
      question: 'A "shared document" link opens a page asking for your email password. What is this most likely?',
      choices: ['A normal security step', 'A fake page collecting passwords', 'A software update', 'A printer error'],
      answer: 1,
      why: 'Documents shared with you open where they were shared; a page from a link that asks for your password is a lure.',
    },
  ],
});

export const URGENCY_AND_AUTHORITY = lesson({
  id: 'urgency-and-authority',
  title: 'Urgency and authority: messages from "the top"',
  course: true,
  html: `<h2>Why it works</h2>
<p>People want to help their chair, their director or a regulator, and to do it quickly. Attackers use that. A message that seems to come from someone senior, with a short deadline, gets fewer questions.</p>
<h2>The pattern</h2>
<ul>
<li><strong>Authority</strong>: the board chair, a director, a regulator, a manufacturer.</li>
<li><strong>Urgency</strong>: today, before the meeting, within the hour.</li>
<li><strong>Secrecy</strong>: "keep this between us", "don't discuss it yet".</li>
<li><strong>No way to check</strong>: "I'm in meetings", "I can't take calls".</li>
</ul>
<p>Any two of these together are a reason to stop. Secrecy and "can't take calls" are the strongest signs: they are there to stop you asking the one person who would say it is fake.</p>
<h2>What to do</h2>
<p>Check through another channel: phone the person on the number in the staff directory, or ask their assistant. A genuine senior colleague will not mind; they want the clinic protected too. Never pay, send documents or sign in because of an unusual request you could not confirm.</p>
<h2>Gift cards and transfers</h2>
<p>Requests to buy gift cards, or to make a quick transfer to a new account, are almost always fraud, whoever they seem to come from.</p>`,
  quiz: [
    {
      question: 'The chair emails: "Please read this confidential paper; don\'t mention it to anyone. I can\'t take calls today." What is most suspicious?',
      choices: ['That the chair emailed you', 'Secrecy plus no way to check', 'That it is a paper', 'The time it was sent'],
      answer: 1,
      why: 'Secrecy and blocking a call are there to stop you from checking.',
    },
    {
      question: 'How should you confirm an unusual request from a director?',
      choices: ['Reply to the email', 'Phone them on the number in the staff directory', 'Ask the sender for their number', 'Do as asked if it is polite'],
      answer: 1,
      why: 'A reply or a number from the message reaches the attacker. The directory reaches the real person.',
    },
    {
      question: 'Someone senior asks you by email to buy gift cards for a staff reward, urgently. What is it most likely?',
      choices: ['A kind gesture', 'Fraud', 'A test of loyalty', 'A normal purchase'],
      answer: 1,
      why: 'Gift cards are hard to trace and easy to cash; they are a favourite of fraudsters posing as managers.',
    },
  ],
});

export const INVOICES_AND_PAYMENTS = lesson({
  id: 'invoices-and-payments',
  title: 'Invoices and changed bank details',
  html: `<h2>The costliest email</h2>
<p>Invoice fraud is simple: a message that looks like it comes from a real supplier says their bank details have changed. The next payment goes to the attacker. The money is rarely recovered.</p>
<h2>Warning signs</h2>
<ul>
<li>New bank details, announced by email or on an invoice.</li>
<li>An invoice that is suddenly "overdue", or a threat to stop supplies.</li>
<li>A sender domain slightly different from the supplier's earlier invoices.</li>
<li>A link to a "billing portal" that asks you to sign in.</li>
</ul>
<h2>The rule</h2>
<p><strong>Bank details are only changed after a phone call</strong> to the supplier on a number you already had, from your records or an earlier invoice, never the number in the message. Your clinic may also require a second person to approve any change.</p>
<h2>If you are not in finance</h2>
<p>Do not forward invoices to finance yourself without checking; report odd ones. Finance would rather get a question than a fraudulent invoice that seems to have been checked by you.</p>`,
  quiz: [
    {
      question: 'A supplier emails to say their bank has changed. What do you do?',
      choices: [
        'Update the details and reply to confirm',
        'Phone the supplier on a number you already had',
        'Phone the number in the email',
        'Pay to the old account and the new one',
      ],
      answer: 1,
      why: 'Only a number from your own records reaches the real supplier.',
    },
    {
      question: 'Which is a warning sign on an invoice email?',
      choices: ['An invoice number', 'A polite greeting', 'It is suddenly "overdue" with new bank details', 'A PDF'],
      answer: 2,
      why: 'Pressure plus a change of bank details is the pattern of invoice fraud.',
    },
    {
      question: 'You are not in finance and receive an invoice by email. What is best?',
      choices: ['Forward it to finance', 'Report it if anything is unusual, or check with the supplier first', 'Pay it yourself', 'Ignore it'],
      answer: 1,
      why: 'Forwarding makes it look checked. Report odd invoices instead.',
    },
  ],
});

export const PARCEL_SCAMS = lesson({
  id: 'parcel-scams',
  title: 'Parcel and delivery scams',
  html: `<h2>Why they work</h2>
<p>Clinics receive deliveries all day, and many of us order things at home too. So "your parcel could not be delivered" seems likely to be true for someone.</p>
<h2>The signs</h2>
<ul>
<li>A small fee to redeliver or release the parcel: the card details are what the sender wants.</li>
<li>A generic greeting such as "Dear Customer".</li>
<li>A deadline: the parcel will be returned in 48 hours.</li>
<li>A sender domain that is not the courier's real one.</li>
</ul>
<h2>What to do</h2>
<p>If you are expecting a parcel, go to the courier's site by typing its address yourself, or use the tracking number from the shop where you ordered. Couriers do not ask for a card payment by email to redeliver. Deliveries to the clinic are handled by reception or stores: ask them.</p>
<p>Never enter card details on a page you reached from a delivery email. If you did, call your bank straight away.</p>`,
  quiz: [
    {
      question: 'A delivery email asks you to pay a small redelivery fee. What is the aim?',
      choices: ['To cover fuel costs', 'To get your card details', 'To confirm your address', 'To speed up delivery'],
      answer: 1,
      why: 'The fee is tiny; the card details are the prize.',
    },
    {
      question: 'How do you check a delivery safely?',
      choices: [
        'Use the link in the email',
        "Type the courier's address yourself or use the shop's tracking number",
        'Reply to the email',
        'Call the number in the email',
      ],
      answer: 1,
      why: 'Going there yourself avoids any link or number the sender chose.',
    },
    {
      question: 'You entered card details on a delivery page you now doubt. What first?',
      choices: ['Wait for the parcel', 'Call your bank', 'Delete the email', 'Pay again'],
      answer: 1,
      why: 'Your bank can block the card before it is used.',
    },
  ],
});

export const PASSWORD_EXPIRY_AND_MFA = lesson({
  id: 'password-expiry-and-mfa',
  title: 'Password expiry lures and MFA fatigue',
  html: `<h2>"Your password expires today"</h2>
<p>This is one of the most common lures because it is believable: passwords do expire. But real systems ask you to change your password when you sign in to them, not through a link in an email. No real system offers to let you "keep your current password" from a link.</p>
<h2>Multi-factor prompts you did not ask for</h2>
<p>Multi-factor authentication (MFA) asks you to approve a sign-in on your phone. Attackers who already have a password try to sign in again and again, sending prompts until someone taps "Approve" to make them stop, or by mistake. This is called MFA fatigue.</p>
<p><strong>Only approve a prompt when you have just signed in yourself.</strong> An unexpected prompt means someone else has your password.</p>
<h2>Codes</h2>
<p>Never read out or type a code from your phone for someone who contacts you. IT will never ask for it.</p>
<h2>What to do</h2>
<ul>
<li>Change passwords only from the system itself or the clinic's usual password page.</li>
<li>Deny unexpected MFA prompts, then change your password.</li>
<li>Report the email or the prompts to the security team.</li>
</ul>`,
  quiz: [
    {
      question: 'Your phone asks you to approve a sign-in you did not start. What do you do?',
      choices: ['Approve it to stop the alerts', 'Deny it, change your password and report it', 'Ignore it', 'Turn off your phone'],
      answer: 1,
      why: 'An unexpected prompt means someone has your password. Deny, change it, report.',
    },
    {
      question: 'An email offers a link to "keep your current password". Is this normal?',
      choices: ['Yes, it saves time', 'No: change passwords only in the system itself', 'Yes, if it comes from IT', 'Only on Fridays'],
      answer: 1,
      why: 'Real systems do not offer this by email. It is a lure for your password.',
    },
    {
      question: 'Someone from IT phones and asks for the code on your phone. What is true?',
      choices: [
        'IT needs it to fix your account',
        'Give it if they know your name',
        'Never give it: IT never asks for it',
        'Give it and change your password later',
      ],
      answer: 2,
      why: 'The code is the last protection on your account; whoever asks for it wants your account.',
    },
  ],
});

export const LURE_LESSONS: readonly Lesson[] = [ATTACHMENTS, URGENCY_AND_AUTHORITY, INVOICES_AND_PAYMENTS, PARCEL_SCAMS, PASSWORD_EXPIRY_AND_MFA];
