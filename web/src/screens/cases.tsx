import { api } from '../api';
import { ErrorNote, Loading, useLoad } from '../ui';

/** Placeholder until the monitor's case API is wired (replaced below). */
export function Cases({ caseId }: { caseId?: string }) {
  const { data, error, loading } = useLoad(() => api<unknown>(caseId ? `/api/monitor/cases/${caseId}` : '/api/monitor/cases'), [caseId]);
  return (
    <section>
      <h1>Alerts and cases</h1>
      <ErrorNote error={error} />
      <Loading when={loading} />
      <pre>{data ? JSON.stringify(data, null, 2) : null}</pre>
    </section>
  );
}
