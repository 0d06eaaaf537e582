import { defineProject } from 'vitest/config';

export default defineProject({
  resolve: { conditions: ['development'] },
  ssr: { resolve: { conditions: ['development'] } },
  test: { name: 'trainer', include: ['test/**/*.test.ts'] },
});
