/**
 * The fleet, for biomedical engineers (and security admins, reading): each device by vendor, model
 * and place, what it last reported running (from its signed report, never typed in), its update
 * state and open advisories in words; a device's advisories with their status, and the engineer's
 * decisions on them (confirm or reject an uncertain match, state a VEX status), each saying why.
 */
import { useState } from 'react';
import { DeviceAdvisories, Fleet as FleetShape, type DeviceAdvisories as DeviceAdvisoriesT, type FleetDevice } from '../../../src/api/index.js';
import { get, send } from '../api';
import { Dialog, ErrorNote, Heads, Loading, useAction, useLoad, when } from '../ui';

const FLAG_WORDS: Record<string, string> = {
  'never-reported': 'has never reported',
  'unknown-image': 'runs software the repository never released',
  silent: 'silent for over a week',
  'not-registered': 'not registered for updates',
};
const STATUS_WORDS: Record<string, string> = {
  affected: 'affected',
  not_affected: 'not affected',
  fixed: 'fixed',
  under_investigation: 'under investigation',
};
const CERTAINTY_WORDS: Record<string, string> = { exact: 'certain match', range: 'in the affected versions', uncertain: 'possible match: please check' };
const JUSTIFICATIONS: Record<string, string> = {
  component_not_present: 'the affected component is not in this device',
  vulnerable_code_not_present: 'the vulnerable code is not in this device',
  vulnerable_code_cannot_be_controlled_by_adversary: 'an attacker cannot reach the vulnerable code here',
  vulnerable_code_not_in_execute_path: 'the vulnerable code never runs here',
  inline_mitigations_already_exist: 'mitigations are already in place',
};

export function Fleet({ canDecide }: { canDecide: boolean }) {
  const fleet = useLoad(() => get(FleetShape, '/inventory/devices'), []);
  const [open, setOpen] = useState<FleetDevice | null>(null);
  return (
    <section>
      <h1>Equipment</h1>
      <ErrorNote error={fleet.error} />
      <Loading when={fleet.loading} />
      {fleet.data && fleet.data.length === 0 ? <p>No equipment yet: import the inventory (carewall inventory import, or a CSV file).</p> : null}
      {fleet.data && fleet.data.length > 0 ? (
        <table>
          <Heads cols={['Device', 'Kind', 'Where', 'Runs', 'Updates', 'Advisories', '']} />
          <tbody>
            {fleet.data.map((d) => (
              <tr key={d.id}>
                <td>
                  {d.vendor} {d.model}
                  <div className="muted">
                    {d.deviceId}
                    {d.serial ? `, serial ${d.serial}` : ''}
                  </div>
                </td>
                <td>
                  {d.deviceClass.replace(/-/g, ' ')}
                  {d.lifeCritical ? <div className="error">life-critical</div> : null}
                </td>
                <td>{d.location ?? '—'}</td>
                <td>{d.reported ? `version ${d.reported.version} (reported ${when(d.reported.at)})` : '—'}</td>
                <td>{d.flags.length === 0 ? 'reporting' : d.flags.map((f) => FLAG_WORDS[f] ?? f).join('; ')}</td>
                <td>
                  {d.vulnerabilities.open === 0
                    ? 'none open'
                    : `${d.vulnerabilities.open} open${d.vulnerabilities.highestSeverity ? `, up to ${d.vulnerabilities.highestSeverity}` : ''}`}
                </td>
                <td>
                  <button type="button" onClick={() => setOpen(d)}>
                    Advisories for {d.deviceId}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      {open ? <DeviceAdvisoriesDialog device={open} canDecide={canDecide} onClose={() => (setOpen(null), fleet.reload())} /> : null}
    </section>
  );
}

function DeviceAdvisoriesDialog({ device, canDecide, onClose }: { device: FleetDevice; canDecide: boolean; onClose: () => void }) {
  const list = useLoad(() => get(DeviceAdvisories, `/advisories/devices/${encodeURIComponent(device.deviceId)}`), [device.deviceId]);
  const [deciding, setDeciding] = useState<DeviceAdvisoriesT['advisories'][number] | null>(null);
  return (
    <Dialog title={`Advisories for ${device.vendor} ${device.model} (${device.deviceId})`} open={true} onClose={onClose}>
      <ErrorNote error={list.error} />
      <Loading when={list.loading} />
      {list.data && list.data.advisories.length === 0 ? <p>No advisory is known to affect this device.</p> : null}
      {list.data && list.data.advisories.length > 0 ? (
        <table>
          <Heads cols={['Advisory', 'Vulnerability', 'Severity', 'How sure', 'Status', '']} />
          <tbody>
            {list.data.advisories.map((a) => (
              <tr key={`${a.advisory}|${a.vulnerability}|${a.productId}|${a.via}`}>
                <td>
                  {a.advisory}
                  <div className="muted">{a.title}</div>
                </td>
                <td>
                  {a.vulnerability}
                  <div className="muted">{a.via === 'device' ? a.vulnerabilityTitle : `in ${a.via.replace(/^component /, '')}`}</div>
                </td>
                <td>{a.severity ?? '—'}</td>
                <td>
                  {a.decision === 'rejected'
                    ? 'rejected by an engineer'
                    : a.decision === 'confirmed'
                      ? 'confirmed by an engineer'
                      : CERTAINTY_WORDS[a.certainty]}
                </td>
                <td>
                  {STATUS_WORDS[a.status]}
                  {a.statusFrom === 'engineer' ? ' (engineer)' : a.statusFrom === 'fixing-release' ? ' (runs the fixing release)' : ''}
                  {a.justification ? <div className="muted">{JUSTIFICATIONS[a.justification] ?? a.justification}</div> : null}
                  {a.fixes.length ? <div className="muted">{a.fixes.join(' ')}</div> : null}
                </td>
                <td>
                  {canDecide ? (
                    <button type="button" onClick={() => setDeciding(a)}>
                      Decide on {a.vulnerability}
                    </button>
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      {deciding ? <Decide device={device.deviceId} item={deciding} onDone={() => (setDeciding(null), list.reload())} /> : null}
      <button type="button" onClick={onClose}>
        Close
      </button>
    </Dialog>
  );
}

/** One decision, said in words and confirmed: a match confirmed or rejected, or a VEX status with why. */
function Decide({ device, item, onDone }: { device: string; item: DeviceAdvisoriesT['advisories'][number]; onDone: () => void }) {
  const [kind, setKind] = useState<string>(item.certainty === 'uncertain' && !item.decision ? 'confirmed' : 'affected');
  const [justification, setJustification] = useState('');
  const [note, setNote] = useState('');
  const save = useAction(async () => {
    if (kind === 'confirmed' || kind === 'rejected')
      await send('/advisories/decisions', { body: { advisory: item.advisory, device, productId: item.productId, decision: kind, note } });
    else
      await send('/advisories/vex', {
        body: { advisory: item.advisory, vulnerability: item.vulnerability, device, status: kind, ...(kind === 'not_affected' ? { justification } : {}), note },
      });
    onDone();
  });
  return (
    <fieldset>
      <legend>
        Your decision on {item.vulnerability} for {device}
      </legend>
      <label>
        Decision{' '}
        <select value={kind} onChange={(e) => setKind(e.target.value)}>
          {item.certainty === 'uncertain' ? <option value="confirmed">It is this product: confirm the match</option> : null}
          {item.certainty === 'uncertain' ? <option value="rejected">It is not this product: reject the match</option> : null}
          <option value="affected">The device is affected</option>
          <option value="under_investigation">Under investigation</option>
          <option value="not_affected">The device is not affected</option>
          <option value="fixed">Fixed on this device</option>
        </select>
      </label>
      {kind === 'not_affected' ? (
        <label>
          Why not affected{' '}
          <select value={justification} onChange={(e) => setJustification(e.target.value)}>
            <option value="">Choose…</option>
            {Object.entries(JUSTIFICATIONS).map(([k, v]) => (
              <option key={k} value={k}>
                {v}
              </option>
            ))}
          </select>
        </label>
      ) : null}
      <label>
        Your reasons (kept with the decision) <textarea rows={2} value={note} onChange={(e) => setNote(e.target.value)} />
      </label>
      <ErrorNote error={save.error} />
      <button
        type="button"
        className="primary"
        disabled={note.trim().length < 10 || (kind === 'not_affected' && !justification) || save.busy}
        onClick={() => void save.run()}
      >
        Record my decision
      </button>
    </fieldset>
  );
}
