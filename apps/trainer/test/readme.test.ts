// README.md's config table must match the code's single table of defaults (CONFIG_FIELDS).
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { CONFIG_FIELDS, toFlag } from '../src/config.js';

it('README lists every config key with its flag and default', () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const rows = readme.split('\n').filter((l) => /^\| `[a-zA-Z]+`\s*\| `--/.test(l));
  const parsed = rows.map((l) =>
    l
      .split('|')
      .slice(1, -1)
      .map((c) => c.trim().replace(/`/g, '')),
  );
  expect(parsed.map((r) => r[0])).toEqual(Object.keys(CONFIG_FIELDS));
  for (const [key, flag, def] of parsed) {
    const f = CONFIG_FIELDS[key as keyof typeof CONFIG_FIELDS];
    expect(flag).toBe(`--${toFlag(key)}`);
    expect(def).toBe(JSON.stringify(f.default));
  }
});
