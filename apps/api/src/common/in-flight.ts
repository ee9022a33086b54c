import type { ApolloServerPlugin } from '@apollo/server';

/**
 * GraphQL operations still executing in this process. A client that hangs up does not stop its
 * operation (a screening call still writes its audit event), and closing the HTTP server only
 * waits for connections: on shutdown the database pool is closed once these are done, not under
 * them.
 */
export class InFlight {
  private count = 0;
  private waiters: (() => void)[] = [];

  get size(): number {
    return this.count;
  }

  /** Counts one operation in; the function returned counts it out (once, however often called). */
  enter(): () => void {
    this.count++;
    let left = false;
    return () => {
      if (left) return;
      left = true;
      this.count--;
      if (this.count === 0) for (const wake of this.waiters.splice(0)) wake();
    };
  }

  /** Resolves true once no operation is in flight, or false after `timeoutMs`. */
  idle(timeoutMs: number): Promise<boolean> {
    if (this.count === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }
}

/**
 * Counts every GraphQL operation from its start until its answer is ready: willSendResponse, or —
 * when a plugin's hook threw (an audit write failing in didEncounterErrors, say) and Apollo
 * answers 500 without calling it — unexpectedErrorProcessingRequest, so that nothing is counted
 * forever (shutdown would wait its whole bound for it).
 */
export function inFlightPlugin(inFlight: InFlight): ApolloServerPlugin {
  const leaves = new WeakMap<object, () => void>();
  return {
    async requestDidStart(requestContext) {
      const leave = inFlight.enter();
      leaves.set(requestContext, leave);
      return {
        async willSendResponse() {
          leave();
        },
      };
    },
    async unexpectedErrorProcessingRequest({ requestContext }) {
      leaves.get(requestContext)?.();
    },
  };
}
