import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { InFlight, inFlightPlugin } from './in-flight.js';

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

describe('inFlightPlugin', () => {
  const typeDefs = 'type Query { ok: String, fails: String }';
  const resolvers = {
    Query: {
      ok: () => 'yes',
      fails: () => {
        throw new Error('resolver failed');
      },
    },
  };

  it('counts an operation while it runs and out once answered, errors included', async () => {
    const inFlight = new InFlight();
    let during = -1;
    const server = new ApolloServer({
      typeDefs,
      resolvers: { Query: { ...resolvers.Query, ok: () => ((during = inFlight.size), 'yes') } },
      plugins: [inFlightPlugin(inFlight)],
    });
    await server.start();
    try {
      await server.executeOperation({ query: '{ ok }' });
      expect(during).toBe(1);
      await server.executeOperation({ query: '{ fails }' });
      await server.executeOperation({ query: '{ nope' });
      expect(inFlight.size).toBe(0);
    } finally {
      await server.stop();
    }
  });

  it('counts out an operation whose answer another plugin broke (a hook that throws)', async () => {
    const inFlight = new InFlight();
    const throwing: ApolloServerPlugin = {
      async requestDidStart() {
        return {
          async didEncounterErrors() {
            throw new Error('audit write failed');
          },
        };
      },
    };
    const server = new ApolloServer({ typeDefs, resolvers, plugins: [inFlightPlugin(inFlight), throwing] });
    await server.start();
    try {
      await expect(server.executeOperation({ query: '{ fails }' })).rejects.toThrow();
      expect(inFlight.size).toBe(0);
    } finally {
      await server.stop();
    }
  });
});
