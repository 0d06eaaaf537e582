// The MQAR task end to end on a tiny budget: every tiny model trains a few steps and is scored;
// the run is fixed by its seed (same accuracy and loss twice); the report files are written and
// summarise seeds as mean ± std. (The generator itself is tested against an oracle in @nl/hope.)
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runMqar, tinyModels } from '../src/tasks/mqar.js';
import { QUICK_TASKS, mqarMarkdown, runTasks } from '../src/tasks/run-tasks.js';

const dir = mkdtempSync(join(tmpdir(), 'nl-tasks-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('MQAR task', () => {
  it('runs every tiny model and writes the JSON and markdown reports', () => {
    const results = runTasks(QUICK_TASKS, dir, () => {});
    expect(results.map((r) => r.model)).toEqual(tinyModels(0).map((m) => m.name));
    for (const r of results) {
      expect(r.accuracy).toBeGreaterThanOrEqual(0);
      expect(r.accuracy).toBeLessThanOrEqual(1);
      expect(Number.isFinite(r.finalLoss)).toBe(true);
      expect(r.seqLen).toBe(8); // 2 pairs + 2 queries
    }
    const files = readdirSync(dir);
    expect(files.filter((f) => f.endsWith('.json'))).toHaveLength(1);
    const md = readFileSync(join(dir, files.find((f) => f.endsWith('.md'))!), 'utf8');
    for (const r of results) expect(md).toContain(`| ${r.model} |`);
  });

  it('is fixed by the seed', () => {
    const opts = {
      model: tinyModels(3)[1]!,
      task: { pairs: 2 },
      steps: 2,
      batch: 2,
      lr: 1e-3,
      seed: 3,
      evalSequences: 4,
    };
    const a = runMqar(opts);
    const b = runMqar(opts);
    expect(b.accuracy).toBe(a.accuracy);
    expect(b.finalLoss).toBe(a.finalLoss);
  }, 120_000);

  it('summarises seeds as mean ± std', () => {
    const base = {
      task: 'mqar' as const,
      params: 10,
      pairs: 4,
      seqLen: 16,
      steps: 1,
      batch: 1,
      lr: 1,
      curve: [],
      seconds: 0,
      finalLoss: 0,
    };
    const md = mqarMarkdown([
      { ...base, model: 'm', seed: 0, accuracy: 0.5 },
      { ...base, model: 'm', seed: 1, accuracy: 0.7 },
    ]);
    expect(md).toContain('| m | 10 | 4 | 16 | 1 | 2 | 60.0 ± 14.1% |');
  });
});
