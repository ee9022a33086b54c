import { GroupCommit } from './group-commit.js';

describe('GroupCommit', () => {
  it('runs the first item at once and the items that arrive meanwhile together, in order', async () => {
    const runs: number[][] = [];
    const batcher = new GroupCommit<number, number>(10, async (items) => {
      runs.push(items);
      await new Promise((r) => setTimeout(r, 10));
      return items.map((i) => i * 2);
    });
    const results = await Promise.all(Array.from({ length: 25 }, (_, i) => batcher.submit(i)));
    expect(results).toEqual(Array.from({ length: 25 }, (_, i) => i * 2));
    expect(runs[0]).toEqual([0]);
    expect(runs.slice(1).map((r) => r.length)).toEqual([10, 10, 4]);
  });

  it('runs each item of a failed group alone, so one bad item fails only its own caller', async () => {
    const batcher = new GroupCommit<number, number>(10, async (items) => {
      await new Promise((r) => setTimeout(r, 5));
      if (items.includes(3)) throw new Error('bad item 3');
      return items;
    });
    const outcomes = await Promise.allSettled([0, 1, 2, 3, 4].map((i) => batcher.submit(i)));
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    expect((outcomes[3] as PromiseRejectedResult).reason.message).toBe('bad item 3');
  });
});
