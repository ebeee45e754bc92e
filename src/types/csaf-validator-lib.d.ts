/** @secvisogram/csaf-validator-lib ships JavaScript with JSDoc types only: the parts Carewall uses. */
declare module '@secvisogram/csaf-validator-lib/validate.js' {
  export type Test = (doc: unknown) => Promise<{ isValid?: boolean; errors?: Array<{ instancePath: string; message: string }> }> | { isValid?: boolean };
  export default function validate(
    tests: Test[],
    doc: unknown,
  ): Promise<{ isValid: boolean; tests: Array<{ name: string; isValid: boolean; errors: Array<{ instancePath: string; message: string }> }> }>;
}
declare module '@secvisogram/csaf-validator-lib/basic.js' {
  const tests: Record<string, import('@secvisogram/csaf-validator-lib/validate.js').Test>;
  export = tests;
}
