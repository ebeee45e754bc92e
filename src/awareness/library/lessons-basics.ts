/**
 * Shipped lessons, part one: the habits every lure is beaten by (who sent it, where the link goes,
 * never typing a password from a link, reporting). Plain HTML fragments, no script, style or
 * external resource; minutes are computed from the words (html.ts), so an edit keeps them honest.
 */
import { readingMinutes } from './html.js';
import type { Lesson } from './types.js';

export function lesson(l: Omit<Lesson, 'minutes'>): Lesson {
  return { ...l, minutes: readingMinutes(l.html) };
}

export const PHISHING_BASICS = lesson({
  id: 'phishing-basics',
  title: 'Phishing in a clinic: the three checks',
  course: true,
  html: `<h2>Why clinics are a target</h2>
<p>A clinic holds what attackers want: patient records, payments to suppliers, and staff accounts that open both. Most attacks do not break in through a firewall. They start with an email that asks someone to click, sign in or pay.</p>
<p>You do not need to know how attacks work to stop them. Three checks, done every time something asks you to act, stop nearly all of them.</p>
<h2>1. Who is really writing?</h2>
<p>Look at the address after the @, not the display name. A name costs nothing to fake. Is the domain your clinic's, or a supplier you already deal with, spelled exactly right?</p>
<h2>2. Where does the link really go?</h2>
<p>Hover over a link (on a phone, press and hold) and read the address before you click. If it is not a site you know, do not open it. Go to the site the way you always do instead.</p>
<h2>3. What is it asking for?</h2>
<p>A password, a payment, bank details, a code from your phone: these are what attackers are after. If a message asks for one of them, stop and check with the sender using a phone number or address you already have.</p>
<h2>If in doubt</h2>
<p>Use the <strong>Report</strong> button. It costs a few seconds, and the security team would rather see ten harmless messages than miss one attack. Reporting is never a nuisance.</p>`,
  quiz: [
    {
      question: 'Which part of a sender tells you most reliably who sent an email?',
      choices: ['The display name', 'The domain after the @', 'The signature at the bottom', 'The logo'],
      answer: 1,
      why: 'Display names, signatures and logos can be copied by anyone. The domain is much harder to fake, so read it carefully.',
    },
    {
      question: 'A message asks you to confirm your bank details through a link. What do you do?',
      choices: [
        'Confirm them quickly so pay is not delayed',
        'Reply and ask if it is genuine',
        'Check with payroll using a number you already have',
        'Forward it to colleagues to warn them',
      ],
      answer: 2,
      why: 'Replying reaches the attacker. Checking through a channel you already trust reaches the real team.',
    },
    {
      question: 'You are not sure whether an email is genuine. What is the best next step?',
      choices: ['Delete it and forget it', 'Report it with the Report button', 'Click the link to see where it goes', 'Wait to see if it is sent again'],
      answer: 1,
      why: 'Reporting lets the security team check it and warn others if it is an attack.',
    },
  ],
});

export const CHECKING_THE_SENDER = lesson({
  id: 'checking-the-sender',
  title: 'Checking who really sent it',
  course: true,
  html: `<h2>The name is not the sender</h2>
<p>Every email shows a display name, such as "IT Service Desk" or the name of your chair. Anyone can type any name there. What identifies the sender is the address, and in the address, the domain: the part after the @.</p>
<h2>Read the domain letter by letter</h2>
<p>Attackers register domains that pass a glance:</p>
<ul>
<li>a letter swapped: <strong>medlcal</strong> for medical, <strong>rn</strong> for m;</li>
<li>words added: <strong>clinic-feedback</strong> or <strong>it-support-desk</strong> next to your clinic's name;</li>
<li>a different ending: .co instead of .com, .net instead of .org.</li>
</ul>
<p>Your clinic's systems, the rota, the lab and IT write from your clinic's own domain. Suppliers write from the domain on their earlier invoices. Compare with a message you know is real.</p>
<h2>When the domain looks right</h2>
<p>A real account can be taken over, and then the domain is right. So the sender check is one of three: ask also where the link goes and what the message wants. A request for a password, a payment or secrecy deserves a phone call to the person, on a number you already have.</p>
<h2>On a phone</h2>
<p>Mail apps often show only the name. Tap the name to see the address before you act.</p>`,
  quiz: [
    {
      question: 'An email shows "Dr Helen Carter" as the sender. What should you check?',
      choices: ['Nothing: the name is correct', 'The domain of her address', 'Whether the message is polite', 'The time it was sent'],
      answer: 1,
      why: 'The display name can be anything. The domain shows where the message really came from.',
    },
    {
      question: 'Which of these could be a look-alike of "vitalis-medical.example"?',
      choices: ['vitalis-medical.example', 'vitalis-medlcal.example', 'Both', 'Neither'],
      answer: 1,
      why: '"medlcal" has an l in place of the i: made to pass a quick glance.',
    },
    {
      question: "The domain is exactly your clinic's, but the message asks you to pay an urgent invoice. What now?",
      choices: [
        'Pay it: the domain is right',
        'Confirm with the sender by phone on a number you already have',
        'Reply to ask for proof',
        'Ignore the domain and check the logo',
      ],
      answer: 1,
      why: 'Accounts can be taken over. A request for money is always checked through another channel.',
    },
  ],
});

export const LINKS_AND_HOVERING = lesson({
  id: 'links-and-hovering',
  title: 'Links: read before you click',
  course: true,
  html: `<h2>The text is not the link</h2>
<p>The words you click and the address they lead to are two separate things. "View results" or even a full web address shown in a message can lead anywhere at all.</p>
<h2>Hover first</h2>
<p>On a computer, rest the mouse pointer on the link without clicking. The real address appears at the bottom of the window or in a small box. On a phone, press and hold the link until the address shows, then let go without opening it.</p>
<h2>Read the address from the right</h2>
<p>In an address such as https://results.lab.example.attacker.test/view, the site is decided by the last part before the first single slash: here attacker.test, not lab.example. Everything before it can be chosen by the attacker.</p>
<h2>Safer than any link</h2>
<p>If a message says a result, a rota or a document is waiting, open the system the way you always do: your bookmark, the clinic intranet, or the app. If it is real, it is there too.</p>
<h2>If you clicked</h2>
<p>Clicking alone rarely does harm; typing a password or opening a download does. If you typed anything, change that password at once and tell the security team. Nobody will blame you for reporting quickly.</p>`,
  quiz: [
    {
      question: 'A link reads "https://results.pathology-lab.example/review". Where does it go?',
      choices: ['To pathology-lab.example', 'You cannot tell until you hover over it', 'To your clinic', 'Nowhere: it is only text'],
      answer: 1,
      why: 'The visible text can be anything. Only the address shown when you hover tells you where it goes.',
    },
    {
      question: 'In https://portal.clinic.example.secure-login.test/sign-in, which site are you visiting?',
      choices: ['portal.clinic.example', 'clinic.example', 'secure-login.test', 'sign-in'],
      answer: 2,
      why: 'The site is the last part before the first single slash. Everything before it was chosen by whoever owns secure-login.test.',
    },
    {
      question: 'An email says your new rota is ready. What is the safest way to see it?',
      choices: ['Click the link in the email', 'Open the rota system the way you usually do', 'Reply and ask for a PDF', 'Forward it to a colleague to open'],
      answer: 1,
      why: 'If the rota is real, it is in the rota system. You never need the link.',
    },
  ],
});

export const CREDENTIAL_REQUESTS = lesson({
  id: 'credential-requests',
  title: 'Your password is only typed where you went yourself',
  course: true,
  html: `<h2>What attackers want most</h2>
<p>A clinic password opens email, records and often remote access. With it, an attacker can read patient data, send mail as you to your colleagues, and change bank details in payroll. That is why so many lures end on a sign-in page.</p>
<h2>The rule</h2>
<p><strong>Only type your password on a page you opened yourself</strong>: from a bookmark, the intranet or by typing the address. Never on a page you reached from a link in an email, a text message or a chat, however real it looks. Copied sign-in pages are easy to make and look exactly like the real one.</p>
<h2>Signs you are on the wrong page</h2>
<ul>
<li>You came from a link, and the page asks you to sign in again.</li>
<li>The address in the bar is not your clinic's usual sign-in address.</li>
<li>It asks for more than usual: bank details, a phone code, your date of birth.</li>
</ul>
<h2>Nobody needs your password</h2>
<p>IT, payroll and managers never ask for your password, by email or by phone. Anyone who does is not who they say they are.</p>
<h2>If you typed it</h2>
<p>Change the password at once from the real sign-in page, and tell the security team. Minutes matter: the sooner it is changed, the less an attacker can do with it.</p>`,
  quiz: [
    {
      question: 'You click a link in an email and a page asks for your clinic password. What do you do?',
      choices: [
        'Type it if the page has the clinic logo',
        'Close the page and open the system yourself',
        'Type a wrong password to test it',
        'Ask a colleague to sign in instead',
      ],
      answer: 1,
      why: 'Logos are easy to copy. A password is only typed on a page you reached yourself.',
    },
    {
      question: 'Someone from "IT" phones and asks for your password to fix your mailbox. What is true?',
      choices: ['IT sometimes needs it', 'Give it if they know your name', 'IT never needs your password', 'Give it and change it later'],
      answer: 2,
      why: 'IT can reset and fix accounts without your password. A request for it is a warning sign.',
    },
    {
      question: 'You typed your password on a page you now think was fake. What first?',
      choices: ['Wait and see', 'Change the password from the real page and tell the security team', 'Delete the email', 'Clear the browser history'],
      answer: 1,
      why: 'Changing it quickly locks the attacker out; telling the team lets them check what happened.',
    },
  ],
});

export const REPORTING_SUSPICIOUS_MAIL = lesson({
  id: 'reporting-suspicious-mail',
  title: 'Reporting a suspicious message',
  course: true,
  html: `<h2>Why reporting matters</h2>
<p>An attack rarely goes to one person. When you report a message, the security team can remove it from everyone's mailbox and block the sender before a colleague falls for it. Your report may be the first warning they get.</p>
<h2>How to report</h2>
<p>Use the <strong>Report</strong> button in your mail program. It sends the whole message, with the details the team needs, and removes it from your inbox. You do not need to be sure it is an attack: "this looks odd" is reason enough.</p>
<h2>What not to do</h2>
<ul>
<li>Do not forward the message to colleagues to ask what they think: that spreads it.</li>
<li>Do not reply to the sender, even to say you know it is fake.</li>
<li>Do not click the link to see where it goes.</li>
</ul>
<h2>If you already clicked</h2>
<p>Report anyway, and say what you did: clicked, opened a file, typed a password. Early reports limit the damage, and nobody is blamed for reporting honestly. A fast report after a mistake is worth more than no mistake and no report.</p>
<h2>Simulations</h2>
<p>Some messages are practice sent by your clinic. Reporting them is exactly right, and it counts in your favour.</p>`,
  quiz: [
    {
      question: 'You think an email might be phishing but you are not sure. What do you do?',
      choices: ['Wait until you are sure', 'Report it with the Report button', 'Forward it to your team to ask', 'Reply asking if it is genuine'],
      answer: 1,
      why: 'You do not need to be sure. The security team would rather check a harmless message than miss an attack.',
    },
    {
      question: 'You clicked a link and typed your password before noticing the domain was wrong. What now?',
      choices: ['Say nothing to avoid trouble', 'Report it and say what you did, then change the password', 'Delete the email', 'Just change your password'],
      answer: 1,
      why: 'An honest early report lets the team protect your account and your colleagues.',
    },
    {
      question: 'Why should you not forward a suspicious email to colleagues?',
      choices: ['It uses too much storage', 'It spreads the attack to more people', 'It is against email etiquette', 'It deletes the original'],
      answer: 1,
      why: 'Each forward is another chance for someone to click. The Report button sends it only to the people who check it.',
    },
  ],
});

export const BASIC_LESSONS: readonly Lesson[] = [PHISHING_BASICS, CHECKING_THE_SENDER, LINKS_AND_HOVERING, CREDENTIAL_REQUESTS, REPORTING_SUSPICIOUS_MAIL];
