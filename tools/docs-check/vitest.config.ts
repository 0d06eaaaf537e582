import { defineProject } from 'vitest/config';

export default defineProject({
  resolve: { conditions: ['development'] },
  ssr: { resolve: { conditions: ['development'] } },
  test: { name: 'docs', testTimeout: 120_000, include: ['test/**/*.test.ts'] },
});
