import { generateSigningKey, type PrivateJwk, type PublicJwk, type SigningAlg, signBearerToken } from '@app/signing';
import * as jose from 'jose';

export interface TestKey {
  privateJwk: PrivateJwk;
  publicJwk: PublicJwk;
  kid: string;
}

export async function newKey(alg: SigningAlg = 'ES256'): Promise<TestKey> {
  const { privateJwk, publicJwk } = await generateSigningKey(alg);
  return { privateJwk, publicJwk, kid: publicJwk.kid };
}

export interface TokenOptions {
  audience?: string;
  lifetimeSeconds?: number;
  subject?: string;
  /** epoch seconds of iat */
  now?: number;
}

/** A valid bearer token, exactly as a client following SPEC 2 makes it. */
export function tokenFor(key: TestKey, options: TokenOptions = {}): Promise<string> {
  return signBearerToken(key.privateJwk, { audience: options.audience ?? 'cordon', ...options });
}

/** Signs arbitrary header and claims with the key (for refusal cases). */
export async function signRaw(key: TestKey, header: Record<string, unknown>, claims: Record<string, unknown>): Promise<string> {
  const k = await jose.importJWK(key.privateJwk, key.privateJwk.alg);
  return new jose.CompactSign(new TextEncoder().encode(JSON.stringify(claims)))
    .setProtectedHeader({ alg: key.privateJwk.alg, kid: key.kid, ...header } as jose.CompactJWSHeaderParameters)
    .sign(k);
}
