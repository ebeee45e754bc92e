/**
 * How long a password must be: one rule for the server (identity's policy) and the console (which
 * says it up front and checks it before sending), so the two can never disagree again.
 */
export const PASSWORD_MIN = 10;
export const PASSWORD_MAX = 1024;
