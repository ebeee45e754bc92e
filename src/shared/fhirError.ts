/**
 * Errors as FHIR OperationOutcomes. Texts are written by Carewall and name paths, never values:
 * nothing a caller sent (which may be patient data) is echoed back or logged.
 */
import type { OperationOutcome, OperationOutcomeIssue } from '@medplum/fhirtypes';

export type IssueCode = OperationOutcomeIssue['code'];

export class FhirError extends Error {
  constructor(
    readonly status: number,
    readonly code: IssueCode,
    message: string,
    readonly issues: OperationOutcomeIssue[] = [],
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }

  toOutcome(): OperationOutcome {
    return outcome(this.code, this.message, this.issues);
  }
}

export function outcome(code: IssueCode, text: string, more: OperationOutcomeIssue[] = []): OperationOutcome {
  const severity = code === 'informational' ? 'information' : 'error';
  return { resourceType: 'OperationOutcome', issue: [{ severity, code, diagnostics: text }, ...more] };
}

export const badRequest = (msg: string, issues: OperationOutcomeIssue[] = []) => new FhirError(400, 'invalid', msg, issues);
export const notFound = (msg = 'resource not found') => new FhirError(404, 'not-found', msg);
export const gone = (msg = 'resource deleted') => new FhirError(410, 'deleted', msg);
export const conflict = (msg: string) => new FhirError(409, 'conflict', msg);
export const preconditionFailed = (msg: string) => new FhirError(412, 'conflict', msg);
export const unprocessable = (msg: string, issues: OperationOutcomeIssue[] = []) => new FhirError(422, 'processing', msg, issues);
export const notSupported = (msg: string) => new FhirError(400, 'not-supported', msg);
