import { sha256Hex } from '@app/canonical';
import { type PublicJwk, verifyCompact } from '@app/signing';

/** SPEC 4: the media type of the exchange's receipt for an accepted statement. */
export const RECEIPT_TYP = 'cordon-receipt+jwt';

/** What a receipt says (SPEC 4), signed by the exchange key. */
export interface ReceiptClaims {
  statementSha256: string;
  indicatorId: string;
  acceptedAt: string;
  auditIndex: number;
}

export class ReceiptError extends Error {}

/**
 * Checks a receipt offline: signed by one of the exchange's keys (its JWKS, as served at
 * /.well-known/jwks.json), `typ` cordon-receipt+jwt, the SPEC 4 claims — and, given the statement,
 * that the receipt is for exactly that JWS (its SHA-256). Throws ReceiptError saying what is wrong.
 */
export async function verifyReceipt(receipt: string, jwks: readonly PublicJwk[], statementJws?: string): Promise<ReceiptClaims & { kid: string }> {
  if (receipt.trim().split('.').length !== 3) throw new ReceiptError('not a compact JWS (three base64url parts separated by dots)');
  let verified: Awaited<ReturnType<typeof verifyCompact>>;
  try {
    verified = await verifyCompact(receipt.trim(), [...jwks]);
  } catch (err) {
    throw new ReceiptError(`the signature does not verify with the exchange's keys (${(err as Error).message})`);
  }
  if (verified.typ !== RECEIPT_TYP) throw new ReceiptError(`header.typ is ${JSON.stringify(verified.typ)}, not ${RECEIPT_TYP}`);
  const c = verified.payload as Partial<ReceiptClaims> | null;
  if (
    !c ||
    typeof c.statementSha256 !== 'string' ||
    !/^[0-9a-f]{64}$/.test(c.statementSha256) ||
    typeof c.indicatorId !== 'string' ||
    typeof c.acceptedAt !== 'string' ||
    !Number.isSafeInteger(c.auditIndex)
  ) {
    throw new ReceiptError('the signed payload is not { statementSha256, indicatorId, acceptedAt, auditIndex }');
  }
  if (statementJws !== undefined) {
    const sha = sha256Hex(statementJws.trim());
    if (sha !== c.statementSha256) throw new ReceiptError(`the receipt is for another statement (statementSha256 ${c.statementSha256}, the statement's SHA-256 is ${sha})`);
  }
  return { ...(c as ReceiptClaims), kid: verified.kid };
}
