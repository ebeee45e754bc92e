/**
 * access_context(): everything one access decision needs to know, as one JSON value, from a
 * PL/pgSQL function. Why a function: the embedded database plans every statement it is sent, and
 * planning this one cost more than running it; PL/pgSQL keeps the plans of its statements for the
 * session, so a decision is one cheap call. It gathers facts only; the rules over them are
 * rules.ts's, applied in waysIn.ts. The facts' SQL (relationship, membership, consent and grant
 * windows: windowSql.ts; who a consent names: predicateSql.ts) is the same the search predicate
 * uses, so the two cannot drift apart.
 */
import { consentNamesCallerSql, membershipInForceSql, relationshipNotSelfMadeSql } from './predicateSql.js';
import {
  activeRelationshipSql,
  CONSENT_WINDOW,
  GRANT_WINDOW,
  inForceSql,
  MEMBERSHIP_WINDOW,
  RELATIONSHIP_WINDOW,
  relationshipWindowSql,
  windowBoundsSql,
} from './windowSql.js';

export function contextFunctionSql(): string {
  const active = activeRelationshipSql('g', 'p_before', 'p_follow_up', 'p_after');
  // Relationships the caller made for themselves are returned marked (the rules leave them out:
  // waysIn.ts), so that the clinical and the lab reach can each apply their own rule.
  const mine = (reach: 'clinical' | 'lab') => `not ${relationshipNotSelfMadeSql('g', 'p_practitioner', reach)}`;
  const member = (m: string) => membershipInForceSql(m);
  const win = relationshipWindowSql('g', 'p_before', 'p_follow_up', 'p_after');
  return `
create or replace function access_context(
  p_practitioner text, p_account text, p_patient text, p_type text, p_id text, p_based_on text[],
  p_nurse boolean, p_lab boolean, p_new boolean, p_before float8, p_follow_up float8, p_after float8)
returns json language plpgsql stable
-- Generic plans: the planner otherwise keeps re-planning for each patient (custom plans look
-- cheaper on paper), which cost three times the execution on the embedded database.
set plan_cache_mode = force_generic_plan as $fn$
declare
  result json;
begin
  with pr as (
    select p_practitioner as principal, true as direct, 'self'::text as kind
    union all
    select m.group_ref, m.direct, m.kind from access_membership m
    where m.member = p_practitioner and (p_nurse or m.kind <> 'ward') and m.kind <> 'care-team' and ${member('m')}),
  reach as (
    select g.*, g.direct and pr.direct as reach_direct from access_relationship g join pr on pr.principal = g.principal
    where g.patient_id = p_patient and ${active}
    union all
    -- care teams the caller is on, joined rather than listed among the principals (one per patient)
    -- (the caller is on the team in person or through one of their PractitionerRoles)
    select g.*, g.direct and m.direct from access_relationship g join access_membership m on m.group_ref = g.principal
    where g.patient_id = p_patient and m.member in (select pr.principal from pr where pr.kind in ('self', 'role')) and m.kind = 'care-team'
      and ${member('m')} and ${active})
  select json_build_object(
    'principals', (select json_agg(json_build_object('principal', pr.principal, 'direct', pr.direct, 'kind', pr.kind)) from pr),
    'relationships', (select json_agg(json_build_object('kind', g.kind, 'source', g.source_type || '/' || g.source_id, 'source_type', g.source_type,
          'source_id', g.source_id, 'principal', g.principal, 'direct', g.reach_direct, 'mine', ${mine('clinical')}, 'mine_lab', ${mine('lab')})) from reach g),
    'restricted', ap.restricted,
    'has_encounter', ap.has_encounter,
    'consents', (select json_agg(json_build_object('effect', c.effect, 'actors', c.actors, 'purposes', c.purposes,
          'named', ${consentNamesCallerSql('c', 'p_practitioner')})) from access_consent c
        where c.patient_id = p_patient and ${inForceSql('c', CONSENT_WINDOW)}),
    'grants', (select json_agg(json_build_object('id', ag.id, 'kind', ag.kind)) from access_grant ag
        where ag.account_id = p_account and ag.patient_id = p_patient and ${inForceSql('ag', GRANT_WINDOW)}),
    'assigned_orders', case when p_lab then (select json_agg(g.source_id) from access_relationship g join pr on pr.principal = g.principal
        where g.source_type = 'ServiceRequest' and g.kind = 'service-request' and g.patient_id = p_patient and ${active} and not ${mine('lab')}
          and g.source_id = any(case when p_new then p_based_on
            else array(select l.order_id from access_result_link l where l.resource_type = p_type and l.id = p_id) end)) end,
    -- Seconds until time alone could change this context: the next start or end of anything above
    -- (null: nothing ahead). The process cache (contextCache.ts) keeps the context no longer.
    'valid_for', (select extract(epoch from min(b.t) - now()) from (
        select unnest(${windowBoundsSql('g', RELATIONSHIP_WINDOW, win)}) as t from access_relationship g where g.patient_id = p_patient
        union all
        select unnest(${windowBoundsSql('m', MEMBERSHIP_WINDOW)}) from access_membership m where m.member = p_practitioner and m.kind <> 'care-team'
        union all
        select unnest(${windowBoundsSql('m', MEMBERSHIP_WINDOW)}) from access_relationship g join access_membership m on m.group_ref = g.principal
          where g.patient_id = p_patient and m.member in (select pr.principal from pr where pr.kind in ('self', 'role')) and m.kind = 'care-team'
        union all
        select unnest(${windowBoundsSql('c', CONSENT_WINDOW)}) from access_consent c where c.patient_id = p_patient
        union all
        select unnest(${windowBoundsSql('ag', GRANT_WINDOW)}) from access_grant ag where ag.account_id = p_account and ag.patient_id = p_patient
      ) b where b.t > now()))
  into result
  from (select 1) one left join access_patient ap on ap.patient_id = p_patient;
  return result;
end
$fn$;`;
}
