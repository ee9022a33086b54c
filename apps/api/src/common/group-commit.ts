/**
 * Group commit: the first item of a quiet moment is run at once; items that arrive while a run is
 * in flight wait for it and then run together (at most `maxGroup` a run), so under load many
 * callers share one statement and one commit, and with no load nobody waits. If a group's run
 * fails, each of its items is run again alone: one item that cannot be done never fails the others.
 */
export class GroupCommit<I, R> {
  private readonly waiting: { item: I; resolve: (r: R) => void; reject: (err: unknown) => void }[] = [];
  private running = false;

  constructor(
    private readonly maxGroup: number,
    /** Does the items' work together; one result per item, in order. */
    private readonly run: (items: I[]) => Promise<R[]>,
  ) {}

  submit(item: I): Promise<R> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ item, resolve, reject });
      if (!this.running) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.running = true;
    try {
      while (this.waiting.length > 0) {
        const group = this.waiting.splice(0, this.maxGroup);
        try {
          const results = await this.run(group.map((g) => g.item));
          group.forEach((g, i) => g.resolve(results[i]));
        } catch (err) {
          if (group.length === 1) {
            group[0].reject(err);
            continue;
          }
          for (const g of group) await this.run([g.item]).then(([r]) => g.resolve(r), g.reject);
        }
      }
    } finally {
      this.running = false;
    }
  }
}
