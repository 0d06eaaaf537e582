import { defineConfig } from 'vitest/config';

// One vitest project per package; each package's own vitest.config.ts names it and points
// workspace imports at TypeScript sources (the `development` export condition).
// NL_TEST_REPORT=<file> also writes a JSON report (CI prints its pass/fail counts).
const jsonReport = process.env.NL_TEST_REPORT;

export default defineConfig({
  test: {
    projects: ['native', 'packages/*', 'apps/*', 'tools/docs-check'],
    reporters: jsonReport ? ['default', ['json', { outputFile: jsonReport }]] : ['default'],
  },
});
