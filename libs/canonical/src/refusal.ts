/**
 * Why a value was refused. Codes are stable (clients and the API map them); messages are for
 * people and name the problem precisely.
 */
export type RefusalCode =
  | 'EMPTY'
  | 'TOO_LONG'
  | 'INVALID_CHARACTERS'
  | 'MIXED_CASE'
  | 'BAD_CHECKSUM'
  | 'BAD_LENGTH'
  | 'UNKNOWN_PREFIX'
  | 'UNKNOWN_VERSION'
  | 'TESTNET_ADDRESS'
  | 'UNSUPPORTED_NETWORK'
  | 'NETWORK_MISMATCH'
  | 'AMBIGUOUS_NETWORK'
  | 'UNRECOGNISED_FORMAT'
  | 'NETWORK_NOT_ALLOWED'
  | 'INVALID_MERCHANT_ID'
  | 'INVALID_DOMAIN'
  | 'IP_ADDRESS'
  | 'SINGLE_LABEL'
  | 'PUBLIC_SUFFIX'
  | 'INVALID_URL'
  | 'UNSUPPORTED_SCHEME'
  | 'UNSUPPORTED_KIND';

export interface Refusal {
  ok: false;
  code: RefusalCode;
  /** Which part of the input is wrong: `value`, `network`, `kind`, or a merchant-id member. */
  field: string;
  message: string;
  /** For AMBIGUOUS_NETWORK: the networks the value fits. */
  candidates?: string[];
}

export function refuse(code: RefusalCode, message: string, field = 'value', candidates?: string[]): Refusal {
  return candidates ? { ok: false, code, field, message, candidates } : { ok: false, code, field, message };
}

/** Thrown inside the parsers and turned into a Refusal at the one public entry point. */
export class RefusalError extends Error {
  constructor(readonly refusal: Refusal) {
    super(refusal.message);
  }
}

export function fail(code: RefusalCode, message: string, field = 'value', candidates?: string[]): never {
  throw new RefusalError(refuse(code, message, field, candidates));
}
