import { defineProject } from 'vitest/config';

export default defineProject({
  resolve: { conditions: ['development'] },
  ssr: { resolve: { conditions: ['development'] } },
  test: { name: 'tensor', testTimeout: 30_000, include: ['test/**/*.test.ts'] },
});
