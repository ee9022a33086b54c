import { type PublicJwk, verifyCompact } from '@app/signing';

/** The media type (JWS `typ`) of a webhook delivery (README "Webhooks"). */
export const WEBHOOK_TYP = 'cordon-webhook+jwt';
export const WEBHOOK_EVENTS = ['NOTIFICATION', 'CHANGE'] as const;

/** What a webhook delivery says, signed by the exchange key once per attempt. */
export interface WebhookDeliveryClaims {
  /** The exchange (its audience, e.g. cordon). */
  iss: string;
  /** The webhook the delivery is for. */
  aud: string;
  /** The delivery's idempotency id, the same on every attempt (the Cordon-Delivery-Id header): deduplicate on it. */
  jti: string;
  iat: number;
  webhookId: string;
  principalId: string;
  memberId: string;
  attempt: number;
  queuedAt: string;
  type: (typeof WEBHOOK_EVENTS)[number];
  event: Record<string, unknown>;
}

export class WebhookDeliveryError extends Error {}

/**
 * Checks a received webhook body offline, as a member's receiver should: a compact JWS signed by
 * one of the exchange's keys (its JWKS, /.well-known/jwks.json), `typ` cordon-webhook+jwt, the
 * delivery claims — and, given the receiver's webhook id, that it was sent for that webhook.
 * Throws WebhookDeliveryError saying what is wrong. A retried delivery is signed afresh with the
 * same `jti`: the receiver deduplicates on it.
 */
export async function verifyWebhookDelivery(
  jws: string,
  jwks: readonly PublicJwk[],
  expect: { webhookId?: string } = {},
): Promise<WebhookDeliveryClaims & { kid: string }> {
  const body = jws.trim();
  if (body.split('.').length !== 3) throw new WebhookDeliveryError('not a compact JWS (three base64url parts separated by dots)');
  let verified: Awaited<ReturnType<typeof verifyCompact>>;
  try {
    verified = await verifyCompact(body, [...jwks]);
  } catch (err) {
    throw new WebhookDeliveryError(`the signature does not verify with the exchange's keys (${(err as Error).message})`);
  }
  if (verified.typ !== WEBHOOK_TYP) throw new WebhookDeliveryError(`header.typ is ${JSON.stringify(verified.typ)}, not ${WEBHOOK_TYP}`);
  const c = verified.payload as Partial<WebhookDeliveryClaims> | null;
  const str = (v: unknown) => typeof v === 'string' && v.length > 0;
  if (
    !c ||
    typeof c !== 'object' ||
    ![c.iss, c.aud, c.jti, c.webhookId, c.principalId, c.memberId, c.queuedAt].every(str) ||
    !Number.isSafeInteger(c.iat) ||
    !Number.isSafeInteger(c.attempt) ||
    !WEBHOOK_EVENTS.includes(c.type as never) ||
    !c.event ||
    typeof c.event !== 'object'
  ) {
    throw new WebhookDeliveryError('the signed payload is not { iss, aud, jti, iat, webhookId, principalId, memberId, attempt, queuedAt, type, event }');
  }
  if (c.aud !== c.webhookId) throw new WebhookDeliveryError(`aud ${c.aud} is not the webhookId ${c.webhookId}`);
  if (expect.webhookId !== undefined && c.webhookId !== expect.webhookId) {
    throw new WebhookDeliveryError(`the delivery is for webhook ${c.webhookId}, not ${expect.webhookId}`);
  }
  return { ...(c as WebhookDeliveryClaims), kid: verified.kid };
}
