import * as jose from 'jose';
import type { PrivateJwk } from './jwk.js';

/**
 * Private keys at rest: a JWE (dir + A256GCM) under a 32-byte key-encryption key from the
 * operator's settings. Without a key-encryption key the JWK is kept as plain JSON.
 */
export async function sealPrivateJwk(jwk: PrivateJwk, keyEncryptionKey: Uint8Array): Promise<string> {
  return new jose.CompactEncrypt(new TextEncoder().encode(JSON.stringify(jwk)))
    .setProtectedHeader({ alg: 'dir', enc: 'A256GCM', cty: 'jwk+json' })
    .encrypt(keyEncryptionKey);
}

export async function unsealPrivateJwk(sealed: string, keyEncryptionKey: Uint8Array): Promise<PrivateJwk> {
  const { plaintext } = await jose.compactDecrypt(sealed, keyEncryptionKey, {
    keyManagementAlgorithms: ['dir'],
    contentEncryptionAlgorithms: ['A256GCM'],
  });
  return JSON.parse(new TextDecoder().decode(plaintext)) as PrivateJwk;
}

/** 32 random bytes, base64url: a fresh key-encryption key (`cordon secret`). */
export function newKeyEncryptionKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return jose.base64url.encode(bytes);
}
