import { Inject, Injectable } from '@nestjs/common';
import type { CordonConfig } from '@app/config';
import { GraphQLError } from 'graphql';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { CONFIG } from '../../common/tokens.js';
import { MetricsService } from './metrics.service.js';

/** The error of a refused request: HTTP 429 with Retry-After, and the wait in the error. */
function limited(message: string, msBeforeNext: number): GraphQLError {
  const retryAfterSeconds = Math.max(1, Math.ceil(msBeforeNext / 1000));
  return new GraphQLError(`${message}; retry after ${retryAfterSeconds} s`, {
    extensions: {
      code: 'RATE_LIMITED',
      retryAfterSeconds,
      http: { status: 429, headers: new Map([['retry-after', String(retryAfterSeconds)]]) },
    },
  });
}

/**
 * Per-principal request limits and a brake on refused sign-ins (rate-limiter-flexible, in this
 * process's memory: with N API processes a principal may make up to N × the limit). Refused
 * sign-ins are counted per client address; past the limit they are answered 429 without an audit
 * row each, so a flood of bad tokens cannot fill the append-only log.
 */
@Injectable()
export class RateLimits {
  private readonly perPrincipal?: RateLimiterMemory;
  private readonly authFailures?: RateLimiterMemory;

  constructor(
    @Inject(CONFIG) private readonly config: CordonConfig,
    private readonly metrics: MetricsService,
  ) {
    if (config.rateLimit > 0) this.perPrincipal = new RateLimiterMemory({ keyPrefix: 'principal', points: config.rateLimit, duration: 1 });
    if (config.authFailureLimit > 0) {
      this.authFailures = new RateLimiterMemory({ keyPrefix: 'auth', points: config.authFailureLimit, duration: 60 });
    }
  }

  /** Counts one request of a principal; throws RATE_LIMITED past CORDON_RATE_LIMIT a second. */
  async request(principalId: string): Promise<void> {
    if (!this.perPrincipal) return;
    try {
      await this.perPrincipal.consume(principalId);
    } catch (res) {
      if (!(res instanceof RateLimiterRes)) throw res;
      this.metrics.rateLimited.inc({ limit: 'principal' });
      throw limited(`rate limit: at most ${this.config.rateLimit} requests a second per principal (CORDON_RATE_LIMIT)`, res.msBeforeNext);
    }
  }

  /**
   * Counts one more request of a principal within a call already admitted (each further chunk of
   * a bulk screening call): past the limit it waits for the next point instead of refusing.
   */
  async wait(principalId: string): Promise<void> {
    if (!this.perPrincipal) return;
    for (;;) {
      try {
        await this.perPrincipal.consume(principalId);
        return;
      } catch (res) {
        if (!(res instanceof RateLimiterRes)) throw res;
        this.metrics.rateLimited.inc({ limit: 'principal-wait' });
        await new Promise((resolve) => setTimeout(resolve, Math.max(1, res.msBeforeNext)));
      }
    }
  }

  /**
   * Counts a refused sign-in from this address and throws RATE_LIMITED once the address is past
   * CORDON_AUTH_FAILURE_LIMIT this minute: the caller then writes no audit row (the flood is
   * counted in cordon_rate_limited_total instead). Valid tokens are never
   * throttled by this, so a member behind a shared address is not locked out by someone else.
   */
  async signInRefused(address: string | undefined): Promise<void> {
    if (!this.authFailures || address === undefined) return;
    const res = await this.authFailures.penalty(address, 1);
    if (res.consumedPoints > this.config.authFailureLimit) {
      this.metrics.rateLimited.inc({ limit: 'sign-in' });
      throw limited('too many refused sign-ins from this address (CORDON_AUTH_FAILURE_LIMIT a minute)', res.msBeforeNext);
    }
  }
}
