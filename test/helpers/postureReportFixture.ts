/**
 * A realistic scorecard for the board report's tests: a small clinic part-way through HICP's ten
 * practices, five threats, every status, measured and attested items, and 30 days of history rising
 * from 3 to 5 practices in place. Written by hand (not generated) so the expected figures are known.
 */
import type { ScoredItem, Scorecard } from '../../src/posture/index.js';
import type { ScorecardHistoryPoint } from '../../src/posture/report.js';

const at = '2026-12-01T09:00:00.000Z';

const item = (id: string, title: string, status: ScoredItem['status'], source: ScoredItem['source'], evidence: string[], next?: string): ScoredItem => ({
  id,
  title,
  status,
  source,
  evidence: evidence.map((text) => ({ kind: source === 'measured' ? `check:${id}` : 'attestation', text, at })),
  ...(next ? { next } : {}),
});

export const practiceTitles = [
  'E-mail protection systems',
  'Endpoint protection systems',
  'Identity and access management',
  'Data protection and loss prevention',
  'IT asset management',
  'Network management',
  'Vulnerability management',
  'Security operations center and incident response',
  'Network connected medical devices',
  'Cybersecurity oversight and governance',
];

export function fixtureScorecard(): Scorecard {
  const practices: Scorecard['practices'] = [
    {
      id: 'hicp-1',
      title: practiceTitles[0],
      score: 0.67,
      items: [
        item('hicp-1.s.a', 'E-mail system configuration', 'compliant', 'measured', ['SPF, DKIM and DMARC (p=reject) published for the clinic domain']),
        item(
          'hicp-1.s.b',
          'Staff awareness of phishing',
          'partial',
          'measured',
          ['11 of 14 staff completed the October exercise'],
          'Remind the 3 staff who have not done the exercise (Awareness, Campaigns).',
        ),
        item('hicp-1.s.c', 'Reporting suspicious mail', 'compliant', 'attested', ['Report button in every mailbox, attested by the practice manager']),
      ],
    },
    {
      id: 'hicp-2',
      title: practiceTitles[1],
      score: 0.5,
      items: [
        item('hicp-2.s.a', 'Basic endpoint protection', 'compliant', 'measured', ['Disk encryption on 9 of 9 laptops']),
        item(
          'hicp-2.s.b',
          'Local administrator rights removed',
          'missing',
          'attested',
          [],
          'Remove local administrator rights from front-desk computers (Inventory, Equipment).',
        ),
      ],
    },
    {
      id: 'hicp-3',
      title: practiceTitles[2],
      score: 0.75,
      items: [
        item('hicp-3.s.a', 'Unique accounts for every user', 'compliant', 'measured', ['No shared accounts among 14 active users']),
        item(
          'hicp-3.s.b',
          'Multi-factor authentication',
          'partial',
          'measured',
          ['12 of 14 users enrolled in a second factor'],
          'Enrol the last 2 users in a second factor (Access, Users).',
        ),
      ],
    },
    {
      id: 'hicp-4',
      title: practiceTitles[3],
      score: 1,
      items: [
        item('hicp-4.s.a', 'Records encrypted at rest', 'compliant', 'measured', ['All FHIR records encrypted with per-clinic keys']),
        item('hicp-4.s.b', 'Backups restored and tested', 'compliant', 'measured', ['Last restore test passed on 2026-11-28']),
      ],
    },
    {
      id: 'hicp-5',
      title: practiceTitles[4],
      score: 0.5,
      items: [
        item('hicp-5.s.a', 'Inventory of equipment', 'compliant', 'measured', ['27 devices on the inventory, 2 unseen for 30 days']),
        item(
          'hicp-5.s.b',
          'Decommissioning of equipment',
          'missing',
          'attested',
          [],
          'Write down how old computers are wiped before disposal (Inventory, Decommission).',
        ),
      ],
    },
    {
      id: 'hicp-6',
      title: practiceTitles[5],
      score: 0.33,
      items: [
        item('hicp-6.s.a', 'Guest Wi-Fi kept apart', 'compliant', 'attested', ['Separate guest network, attested by the IT contractor']),
        item('hicp-6.s.b', 'Firewall rules reviewed', 'missing', 'attested', [], 'Have the firewall rules reviewed and record the date (Posture, Attest).'),
        item('hicp-6.s.c', 'Remote access through one gateway', 'missing', 'attested', [], 'Close direct remote desktop access from the internet (Guard).'),
      ],
    },
    {
      id: 'hicp-7',
      title: practiceTitles[6],
      score: 0.5,
      items: [
        item(
          'hicp-7.s.a',
          'Software kept up to date',
          'partial',
          'measured',
          ['2 of 27 devices more than 30 days behind on updates'],
          'Update the 2 devices that are behind (Updates).',
        ),
        item('hicp-7.s.b', 'Known vulnerabilities watched', 'compliant', 'measured', ['Advisories matched daily against the inventory']),
      ],
    },
    {
      id: 'hicp-8',
      title: practiceTitles[7],
      score: 0.5,
      items: [
        item('hicp-8.s.a', 'Audit log kept and tamper-evident', 'compliant', 'measured', ['Audit chain verified on 2026-12-01']),
        item(
          'hicp-8.s.b',
          'Incident response plan',
          'missing',
          'attested',
          [],
          'Write a one-page incident response plan with phone numbers (Posture, Attest).',
        ),
      ],
    },
    {
      id: 'hicp-9',
      title: practiceTitles[8],
      score: 1,
      items: [
        item('hicp-9.s.a', 'Medical devices on their own network', 'not-applicable', 'attested', [
          'No network-connected medical devices, attested on 2026-11-20',
        ]),
      ],
    },
    {
      id: 'hicp-10',
      title: practiceTitles[9],
      score: 0.5,
      items: [
        item('hicp-10.s.a', 'A named person responsible for security', 'compliant', 'attested', ['The practice manager, named on 2026-10-02']),
        item('hicp-10.s.b', 'Yearly risk assessment', 'partial', 'attested', ['Last done in 2025'], 'Repeat the risk assessment for 2026 (Posture, Attest).'),
      ],
    },
  ];
  return {
    generatedAt: '2026-12-01T09:00:00.000Z',
    summary: {
      inPlace: 5,
      total: 10,
      text: 'Five of the ten HICP practices are fully in place; firewall review and an incident response plan are the largest gaps.',
    },
    threats: [
      { id: 'social-engineering', title: 'E-mail phishing', score: 0.72 },
      { id: 'ransomware', title: 'Ransomware', score: 0.55 },
      { id: 'equipment-data-loss', title: 'Loss or theft of equipment or data', score: 0.8 },
      { id: 'insider', title: 'Insider, accidental or malicious data loss', score: 0.64 },
      { id: 'medical-devices', title: 'Attacks against connected medical devices', score: 0.9 },
    ],
    practices,
  };
}

/** 30 daily points ending on the scorecard's day; 3, then 4, then 5 practices in place. */
export function fixtureHistory(): ScorecardHistoryPoint[] {
  const end = Date.parse('2026-12-01T09:00:00.000Z');
  return Array.from({ length: 30 }, (_, i) => {
    const daysAgo = 29 - i;
    const inPlace = daysAgo > 20 ? 3 : daysAgo > 8 ? 4 : 5;
    return {
      at: new Date(end - daysAgo * 86_400_000).toISOString(),
      inPlace,
      total: 10,
      threats: { 'social-engineering': 0.5 + i / 100, ransomware: 0.4 + i / 200, 'equipment-data-loss': 0.8, insider: 0.6, 'medical-devices': 0.9 },
    };
  });
}
