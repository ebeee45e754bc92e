/**
 * Rollouts, for biomedical engineers: a released update given to a class's devices one canary
 * first, then wave by wave, each opened once the devices before report running it; and the halt
 * switch, which stops it at once. Every act says what it will do and is confirmed; a halt and a
 * resume say why.
 */
import { useState } from 'react';
import { Fleet, ReleaseList, Rollout, RolloutList, type Rollout as RolloutT } from '../../../src/api/index.js';
import { get, post } from '../api';
import { Dialog, ErrorNote, Loading, useAction, useLoad, when } from '../ui';

const STATE_WORDS: Record<RolloutT['state'], string> = { active: 'Rolling out', halted: 'HALTED', replaced: 'Replaced by a later rollout' };

export function Rollouts({ canAct }: { canAct: boolean }) {
  const rollouts = useLoad(() => get(RolloutList, '/updates/rollouts'), []);
  const [acting, setActing] = useState<{ rollout: RolloutT; act: 'advance' | 'halt' | 'resume' } | null>(null);
  const live = (rollouts.data ?? []).filter((r) => r.state !== 'replaced');
  return (
    <section>
      <h1>Rollouts</h1>
      <ErrorNote error={rollouts.error} />
      <Loading when={rollouts.loading} />
      {live.length === 0 && !rollouts.loading ? <p>No rollout is under way.</p> : null}
      {live.map((r) => (
        <div className="card" key={r.id} role={r.state === 'halted' ? 'alert' : undefined}>
          <h2>
            {r.target.split('.').slice(1).join('.')} to {r.deviceClass.replace(/-/g, ' ')}s: {STATE_WORDS[r.state]}
          </h2>
          <p className="muted">
            Started by {r.createdBy}, {when(r.createdAt)}.
            {r.events
              .filter((e) => e.reason)
              .slice(-1)
              .map((e) => ` Last: ${e.action} by ${e.by}, “${e.reason}”.`)}
          </p>
          <ol>
            {r.waves.map((w, i) => (
              <li key={i}>
                {i === 0 ? 'Canary' : `Wave ${i + 1}`} ({i < r.openWaves ? 'open' : 'waiting'}):{' '}
                {w.devices.map((d) => `${d.id}${d.installed ? ' ✓ runs it' : ''}`).join(', ')}
              </li>
            ))}
          </ol>
          {canAct && r.state === 'active' ? (
            <>
              {r.openWaves < r.waves.length ? (
                <button type="button" onClick={() => setActing({ rollout: r, act: 'advance' })}>
                  Open the next wave
                </button>
              ) : null}
              <button type="button" className="danger" onClick={() => setActing({ rollout: r, act: 'halt' })}>
                Halt this rollout
              </button>
            </>
          ) : null}
          {canAct && r.state === 'halted' ? (
            <button type="button" onClick={() => setActing({ rollout: r, act: 'resume' })}>
              Resume…
            </button>
          ) : null}
        </div>
      ))}
      {canAct ? <StartRollout onDone={rollouts.reload} /> : null}
      {acting ? <Act {...acting} onClose={() => setActing(null)} onDone={rollouts.reload} /> : null}
    </section>
  );
}

const ACT_WORDS = {
  advance: {
    title: 'Open the next wave',
    button: 'Open the next wave',
    says: 'The devices of the next wave will install the update in their next maintenance window.',
  },
  halt: {
    title: 'Halt the rollout',
    button: 'Halt now',
    says: 'No device will be told to install this update until someone resumes the rollout. The officers are notified.',
  },
  resume: { title: 'Resume the rollout', button: 'Resume', says: 'The devices of the open waves will install the update again in their maintenance windows.' },
} as const;

function Act({ rollout, act, onClose, onDone }: { rollout: RolloutT; act: 'advance' | 'halt' | 'resume'; onClose: () => void; onDone: () => void }) {
  const [reason, setReason] = useState('');
  const words = ACT_WORDS[act];
  const run = useAction(async () => {
    const r = await post(Rollout, `/updates/rollouts/${rollout.id}/${act}`, act === 'advance' ? undefined : { reason });
    onDone();
    onClose();
    return r;
  });
  return (
    <Dialog title={words.title} open={true} onClose={onClose}>
      <p>
        {rollout.target}: {words.says}
      </p>
      {act !== 'advance' ? (
        <label>
          Why (kept with the rollout) <textarea rows={2} value={reason} onChange={(e) => setReason(e.target.value)} />
        </label>
      ) : null}
      <ErrorNote error={run.error} />
      <div className="actions">
        <button
          type="button"
          className={act === 'halt' ? 'danger' : 'primary'}
          disabled={run.busy || (act !== 'advance' && reason.trim().length < 10)}
          onClick={() => void run.run()}
        >
          {words.button}
        </button>
        <button type="button" onClick={onClose}>
          Cancel
        </button>
      </div>
    </Dialog>
  );
}

function StartRollout({ onDone }: { onDone: () => void }) {
  const releases = useLoad(() => get(ReleaseList, '/updates/releases'), []);
  const fleet = useLoad(() => get(Fleet, '/inventory/devices'), []);
  const [target, setTarget] = useState('');
  const [canary, setCanary] = useState('');
  const [waves, setWaves] = useState('');
  const [confirming, setConfirming] = useState(false);
  const published = (releases.data ?? []).filter((r) => r.state === 'published');
  const cls = target.split('.')[0];
  const candidates = (fleet.data ?? []).filter((d) => d.deviceClass === cls && !d.flags.includes('not-registered'));
  const sizes = waves
    .split(/[\s,]+/)
    .filter(Boolean)
    .map(Number);
  const start = useAction(async () => {
    const r = await post(Rollout, '/updates/rollouts', { target, canary, waves: sizes });
    setConfirming(false);
    setTarget('');
    setCanary('');
    setWaves('');
    onDone();
    return r;
  });
  return (
    <form
      className="card"
      aria-labelledby="start-rollout"
      onSubmit={(e) => {
        e.preventDefault();
        setConfirming(true);
      }}
    >
      <h2 id="start-rollout">Start a rollout</h2>
      <ErrorNote error={releases.error ?? fleet.error} />
      <label>
        Released update{' '}
        <select value={target} onChange={(e) => (setTarget(e.target.value), setCanary(''))} required>
          <option value="">Choose…</option>
          {published.map((r) => (
            <option key={r.id} value={r.path}>
              {r.name} (version {r.version}) for {r.deviceClass.replace(/-/g, ' ')}s
            </option>
          ))}
        </select>
      </label>
      <label>
        Canary: the device that installs it first{' '}
        <select value={canary} onChange={(e) => setCanary(e.target.value)} required disabled={!target}>
          <option value="">Choose…</option>
          {candidates.map((d) => (
            <option key={d.deviceId} value={d.deviceId}>
              {d.deviceId}, {d.location ?? 'no location'}
            </option>
          ))}
        </select>
      </label>
      <label>
        Then waves of (devices, e.g. “2, 5”; the rest come last) <input value={waves} onChange={(e) => setWaves(e.target.value)} />
      </label>
      <button type="submit" className="primary" disabled={!target || !canary || sizes.some((n) => !Number.isInteger(n) || n < 1)}>
        Start…
      </button>
      <Dialog title="Start the rollout" open={confirming} onClose={() => setConfirming(false)}>
        <p>
          {canary} installs {target} first, in its next maintenance window. The next waves open only when you open them, after the devices before report running
          it.
        </p>
        <ErrorNote error={start.error} />
        <div className="actions">
          <button type="button" className="primary" disabled={start.busy} onClick={() => void start.run()}>
            Start the rollout
          </button>
          <button type="button" onClick={() => setConfirming(false)}>
            Cancel
          </button>
        </div>
      </Dialog>
    </form>
  );
}
