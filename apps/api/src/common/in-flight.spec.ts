import { InFlight } from './in-flight.js';

describe('InFlight', () => {
  it('is idle at once with nothing in flight', async () => {
    await expect(new InFlight().idle(10)).resolves.toBe(true);
  });

  it('resolves idle when the last operation leaves, counting each leave once', async () => {
    const inFlight = new InFlight();
    const a = inFlight.enter();
    const b = inFlight.enter();
    const idle = inFlight.idle(5_000);
    a();
    a(); // a second call of the same leave does not count b out
    expect(inFlight.size).toBe(1);
    b();
    await expect(idle).resolves.toBe(true);
    expect(inFlight.size).toBe(0);
  });

  it('gives up after the timeout while an operation still runs', async () => {
    const inFlight = new InFlight();
    inFlight.enter();
    await expect(inFlight.idle(20)).resolves.toBe(false);
    expect(inFlight.size).toBe(1);
  });
});
