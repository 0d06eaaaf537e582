import { defineConfig } from 'vitest/config';

// One vitest project per package; each package's own vitest.config.ts names it and points
// workspace imports at TypeScript sources (the `development` export condition).
export default defineConfig({
  test: {
    projects: ['native', 'packages/*', 'apps/*'],
  },
});
