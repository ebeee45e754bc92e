/**
 * Equipment classes, for the administrator and the security administrator: which engineers
 * release updates for which equipment, and the vendors whose signatures images must carry. An
 * assignment reaches devices only through the targets key holders' signature on the delegation, so
 * the screen walks through that too: prepare the file for them, carry their signature in.
 */
import { useState } from 'react';
import { DelegationProposal, DeviceClassList, KeyRegistered, SignatureAdded, VendorKeyList, type DeviceClassList as Classes } from '../../../src/api/index.js';
import { get, post, send } from '../api';
import { Dialog, ErrorNote, Heads, Loading, useAction, useLoad, when } from '../ui';

type DeviceClass = Classes[number];

function downloadText(name: string, text: string) {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(new Blob([text], { type: 'application/json' }));
  a.download = name;
  a.click();
  URL.revokeObjectURL(a.href);
}

export function EquipmentClasses() {
  const classes = useLoad(() => get(DeviceClassList, '/updates/classes'), []);
  const [form, setForm] = useState({ name: '', lifeCritical: false });
  const [assignTo, setAssignTo] = useState<Record<string, string>>({});
  const [removing, setRemoving] = useState<{ cls: string; username: string } | null>(null);
  const [note, setNote] = useState<string | null>(null);
  const add = useAction(async () => {
    await send('/updates/classes', { body: form });
    setForm({ name: '', lifeCritical: false });
    classes.reload();
  });
  const assign = useAction(async () => {
    const [cls, username] = Object.entries(assignTo).find(([, u]) => u.trim() !== '') ?? [];
    if (!cls || !username) return;
    await send(`/updates/classes/${encodeURIComponent(cls)}/engineers`, { body: { username: username.trim() } });
    setAssignTo({});
    setNote(`${username.trim()} is assigned to ${cls}. Prepare the delegation so that devices trust their key.`);
    classes.reload();
  });
  const prepare = async (cls: string) => {
    try {
      const p = await post(DelegationProposal, `/updates/classes/${encodeURIComponent(cls)}/delegation`);
      downloadText(`${cls}-delegation.unsigned.json`, p.unsigned);
      setNote(
        `The delegation naming ${p.engineers.join(', ')} is ready: the targets key holders sign the downloaded file with carewall updates sign; add their signatures below.`,
      );
    } catch (err) {
      setNote((err as Error).message);
    }
  };
  return (
    <section>
      <h1>Equipment classes</h1>
      <ErrorNote error={classes.error ?? add.error ?? assign.error} />
      <Loading when={classes.loading} />
      {note ? <p role="status">{note}</p> : null}
      <div className="card">
        <h2>Classes and their engineers</h2>
        {(classes.data ?? []).length === 0 ? (
          <p>No class yet.</p>
        ) : (
          <table>
            <Heads cols={['Equipment class', 'Approvals needed', 'Engineers', 'Trusted by devices', 'Assign an engineer', '']} />
            <tbody>
              {(classes.data ?? []).map((c) => (
                <tr key={c.name}>
                  <td>
                    {c.name}
                    {c.lifeCritical ? <div className="muted">life-critical</div> : null}
                  </td>
                  <td>{c.threshold === 2 ? 'two engineers' : 'one engineer'}</td>
                  <td>
                    {c.engineers.length === 0
                      ? 'none'
                      : c.engineers.map((e) => (
                          <div key={e}>
                            {e}{' '}
                            <button type="button" onClick={() => setRemoving({ cls: c.name, username: e })}>
                              Remove {e}
                            </button>
                          </div>
                        ))}
                  </td>
                  <td>{trustWords(c)}</td>
                  <td>
                    <label>
                      <span className="sr-only">Username of the engineer to assign to {c.name}</span>
                      <input value={assignTo[c.name] ?? ''} onChange={(e) => setAssignTo({ [c.name]: e.target.value })} placeholder="username" />
                    </label>
                    <button type="button" disabled={!assignTo[c.name]?.trim() || assign.busy} onClick={() => void assign.run()}>
                      Assign
                    </button>
                  </td>
                  <td>
                    <button type="button" onClick={() => void prepare(c.name)}>
                      Prepare the delegation for {c.name}
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
      <form
        className="card"
        aria-labelledby="new-class"
        onSubmit={(e) => {
          e.preventDefault();
          void add.run();
        }}
      >
        <h2 id="new-class">Add an equipment class</h2>
        <label>
          Name (lower-case, e.g. infusion-pump) <input value={form.name} onChange={(e) => setForm({ ...form, name: e.target.value })} required />
        </label>
        <label>
          <input type="checkbox" checked={form.lifeCritical} onChange={(e) => setForm({ ...form, lifeCritical: e.target.checked })} /> Life-critical: two
          engineers must approve each release
        </label>
        <button type="submit" className="primary" disabled={add.busy}>
          Add the class
        </button>
      </form>
      <TargetsSignature onDone={classes.reload} />
      <Vendors />
      <RemoveEngineer removing={removing} onClose={() => setRemoving(null)} onDone={classes.reload} />
    </section>
  );
}

function trustWords(c: DeviceClass): string {
  if (c.delegatedKeys.length === 0) return 'not yet: prepare the delegation and have it signed';
  if (c.delegatedKeys.length !== c.engineers.length) return `${c.delegatedKeys.length} key(s); the assignments changed since: prepare the delegation again`;
  return `yes, ${c.delegatedKeys.length} key(s)`;
}

function RemoveEngineer({ removing, onClose, onDone }: { removing: { cls: string; username: string } | null; onClose: () => void; onDone: () => void }) {
  const remove = useAction(async () => {
    await send(`/updates/classes/${encodeURIComponent(removing!.cls)}/engineers/${encodeURIComponent(removing!.username)}`, { method: 'DELETE' });
    onDone();
    onClose();
  });
  return (
    <Dialog title="Remove an engineer" open={removing !== null} onClose={onClose}>
      {removing ? (
        <>
          <p>
            {removing.username} will no longer release updates for {removing.cls} here at once. Devices stop trusting their key only when a new delegation
            without it is signed: prepare it next.
          </p>
          <ErrorNote error={remove.error} />
          <div className="actions">
            <button type="button" className="primary" disabled={remove.busy} onClick={() => void remove.run()}>
              Remove {removing.username}
            </button>
            <button type="button" onClick={onClose}>
              Cancel
            </button>
          </div>
        </>
      ) : null}
    </Dialog>
  );
}

/** A targets (or root) key holder's signature file, carried in. */
function TargetsSignature({ onDone }: { onDone: () => void }) {
  const [signature, setSignature] = useState<unknown>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const add = useAction(async () => {
    const r = await post(SignatureAdded, '/updates/signatures', signature);
    onDone();
    return r;
  });
  return (
    <div className="card">
      <h2>Add a key holder&apos;s signature</h2>
      <label>
        Signature file (from carewall updates sign){' '}
        <input
          type="file"
          accept=".json,application/json"
          onChange={(e) => {
            setProblem(null);
            setSignature(null);
            void e.target.files?.[0]?.text().then(
              (t) => {
                try {
                  setSignature(JSON.parse(t));
                } catch {
                  setProblem('That file is not a signature file.');
                }
              },
              () => setProblem('The file could not be read.'),
            );
          }}
        />
      </label>
      <ErrorNote error={problem ?? add.error} />
      <button type="button" disabled={!signature || add.busy} onClick={() => void add.run()}>
        Add the signature
      </button>
      {add.result ? (
        <p role="status">
          {add.result.published
            ? `${add.result.role} version ${add.result.version} is signed and published: devices trust it now.`
            : `Signature added (${add.result.signedBy.length} so far); more key holders must sign.`}
        </p>
      ) : null}
    </div>
  );
}

function Vendors() {
  const list = useLoad(() => get(VendorKeyList, '/updates/vendors'), []);
  const [form, setForm] = useState({ vendor: '', publicKeyPem: '' });
  const add = useAction(async () => {
    const r = await post(KeyRegistered, '/updates/vendors', form);
    setForm({ vendor: '', publicKeyPem: '' });
    list.reload();
    return r;
  });
  return (
    <div className="card">
      <h2>Vendors&apos; signing keys</h2>
      <p>Each image must carry its vendor&apos;s signature over it; it is checked on upload and again on the device.</p>
      {(list.data ?? []).length > 0 ? (
        <table>
          <Heads cols={['Vendor', 'Key fingerprint', 'Added by', 'Added']} />
          <tbody>
            {(list.data ?? []).map((k) => (
              <tr key={k.keyid}>
                <td>{k.vendor}</td>
                <td className="mono">{k.keyid.slice(0, 16)}…</td>
                <td>{k.addedBy}</td>
                <td>{when(k.addedAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void add.run();
        }}
      >
        <label>
          Vendor <input value={form.vendor} onChange={(e) => setForm({ ...form, vendor: e.target.value })} required />
        </label>
        <label>
          Public key (PEM, as the vendor publishes it){' '}
          <textarea rows={4} value={form.publicKeyPem} onChange={(e) => setForm({ ...form, publicKeyPem: e.target.value })} required />
        </label>
        <ErrorNote error={list.error ?? add.error} />
        <button type="submit" disabled={add.busy}>
          Add the vendor key
        </button>
      </form>
    </div>
  );
}
