// Kept in step with package.json by test/unit/version.test.ts; a constant keeps `pullgate evaluate` from
// reading files at start.
export const version = '0.1.0';
export const userAgent = `pullgate/${version}`;
