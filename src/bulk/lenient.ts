/**
 * Bulk Data's lenient handling: a client that sends `Prefer: handling=lenient` asks the server to
 * go on without the parameters it does not implement rather than refuse the export. Carewall then
 * ignores them, but never silently: the manifest's `error` array names a file with one
 * OperationOutcome per ignored parameter (its name only; values are not repeated back).
 */

/** The parameters an export does not implement: refused, unless the client asked for lenience. */
export const UNSUPPORTED_EXPORT_PARAMETERS = ['_typeFilter', 'includeAssociatedData', '_until'] as const;

/** Whether a Prefer header asks for lenient handling (RFC 7240 preferences, comma separated). */
export function prefersLenient(prefer: string): boolean {
  return prefer.split(',').some((p) => /^\s*handling\s*=\s*"?lenient"?\s*$/i.test(p));
}

/** The error file's lines: an OperationOutcome for each ignored parameter. */
export function ignoredParameterOutcomes(names: string[]): string {
  return names
    .map((name) =>
      JSON.stringify({
        resourceType: 'OperationOutcome',
        issue: [
          {
            severity: 'warning',
            code: 'not-supported',
            diagnostics: `${name} is not supported by this server's export and was ignored, as the request allowed (Prefer: handling=lenient)`,
          },
        ],
      }),
    )
    .map((line) => line + '\n')
    .join('');
}
