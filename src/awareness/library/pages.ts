/**
 * The landing pages shipped with Carewall, one per kind of lure. Each imitates what the message
 * promised closely enough to be a fair test, and no more. Fields carry names here because a page
 * copied from the wild has them; prepareLandingPage (landing.ts) removes every name before a page is
 * served, so nothing typed is ever sent. Brands are fictional.
 */
import type { LandingPage } from './types.js';

const STYLE = `body{font-family:Arial,Helvetica,sans-serif;background:#f3f4f6;margin:0;color:#1f2937}
main{max-width:380px;margin:64px auto;background:#fff;border:1px solid #d1d5db;border-radius:6px;padding:28px}
h1{font-size:20px;margin:0 0 6px}p{font-size:14px;line-height:1.4}label{display:block;font-size:13px;margin:14px 0 4px}
input,select{width:100%;box-sizing:border-box;padding:8px;border:1px solid #9ca3af;border-radius:4px;font-size:14px}
button{margin-top:18px;width:100%;padding:10px;border:0;border-radius:4px;background:#1d4ed8;color:#fff;font-size:15px}
.small{font-size:12px;color:#6b7280}`;

function page(title: string, body: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${title}</title><style>${STYLE}</style></head>
<body><main>
${body}
</main></body>
</html>
`;
}

export const SIGN_IN_PORTAL: LandingPage = {
  id: 'sign-in-portal',
  name: 'Staff account sign-in',
  html: page(
    'Sign in to your account',
    `<h1>Sign in</h1>
<p>Use your work email address and password to continue.</p>
<form method="post" action="/login">
<label for="email">Work email</label><input id="email" name="email" type="email" value="{{.Email}}">
<label for="password">Password</label><input id="password" name="password" type="password">
<button type="submit">Sign in</button>
</form>
<p class="small">Staff Services Portal. Unauthorised access is prohibited.</p>`,
  ),
};

export const DOCUMENT_VIEWER: LandingPage = {
  id: 'document-viewer',
  name: 'Shared document viewer',
  html: page(
    'SecureDocs - view shared file',
    `<h1>SecureDocs</h1>
<p>A file has been shared with you. To protect its contents, confirm your identity to open it.</p>
<p class="small">Document: Scan_0427.pdf (1 page, 212 KB)</p>
<form method="post" action="/view">
<label for="email">Email address</label><input id="email" name="login" type="email" value="{{.Email}}">
<label for="password">Email password</label><input id="password" name="passwd" type="password">
<button type="submit">Open document</button>
</form>`,
  ),
};

export const PARCEL_REDELIVERY: LandingPage = {
  id: 'parcel-redelivery',
  name: 'Parcel redelivery',
  html: page(
    'Arrange your redelivery',
    `<h1>Arrange redelivery</h1>
<p>We could not deliver your parcel. Choose a new date and pay the redelivery fee of 1.45 to release it.</p>
<form method="post" action="/redeliver">
<label for="fullname">Full name</label><input id="fullname" name="fullname" type="text">
<label for="postcode">Postcode</label><input id="postcode" name="postcode" type="text">
<label for="date">Delivery date</label><select id="date" name="date"><option>Tomorrow</option><option>In two days</option></select>
<label for="card">Card number</label><input id="card" name="card" type="text" inputmode="numeric">
<label for="expiry">Expiry (MM/YY)</label><input id="expiry" name="expiry" type="text">
<label for="cvc">Security code</label><input id="cvc" name="cvc" type="password">
<button type="submit">Pay and rebook</button>
</form>`,
  ),
};

export const INVOICE_PORTAL: LandingPage = {
  id: 'invoice-portal',
  name: 'Supplier invoice portal',
  html: page(
    'Supplier billing portal',
    `<h1>Billing portal</h1>
<p>Sign in to view and download your invoice. Invoices are held for 14 days.</p>
<form method="post" action="/billing/login">
<label for="email">Email</label><input id="email" name="username" type="email" value="{{.Email}}">
<label for="password">Password</label><input id="password" name="password" type="password">
<button type="submit">View invoice</button>
</form>
<p class="small">Need help? Contact accounts receivable.</p>`,
  ),
};

export const PAYROLL_DETAILS: LandingPage = {
  id: 'payroll-details',
  name: 'HR and payroll self-service',
  html: page(
    'Employee self-service',
    `<h1>Employee self-service</h1>
<p>Sign in to review your pay details before the payroll deadline.</p>
<form method="post" action="/ess">
<label for="email">Work email</label><input id="email" name="email" type="email" value="{{.Email}}">
<label for="password">Password</label><input id="password" name="password" type="password">
<label for="account">Bank account number (to confirm)</label><input id="account" name="account" type="text">
<label for="sortcode">Sort code</label><input id="sortcode" name="sortcode" type="text">
<button type="submit">Confirm details</button>
</form>`,
  ),
};

export const SHIPPED_PAGES: readonly LandingPage[] = Object.freeze([SIGN_IN_PORTAL, DOCUMENT_VIEWER, PARCEL_REDELIVERY, INVOICE_PORTAL, PAYROLL_DETAILS]);
