import { createSigner, generateSigningKey } from '@app/signing';
import { verifyWebhookDelivery, WEBHOOK_TYP, WebhookDeliveryError } from './webhook.js';

const CLAIMS = {
  iss: 'cordon',
  aud: 'w1',
  jti: 'd1',
  iat: 1_800_000_000,
  webhookId: 'w1',
  principalId: 'p1',
  memberId: 'm1',
  attempt: 1,
  queuedAt: '2027-01-15T08:00:00.000Z',
  type: 'CHANGE',
  event: { indicatorId: 'i1' },
};

describe('verifyWebhookDelivery', () => {
  it('accepts a delivery signed by a JWKS key with typ cordon-webhook+jwt; refuses a tampered one, another typ, another key, bad claims, another webhook', async () => {
    const { privateJwk, publicJwk } = await generateSigningKey('ES256');
    const other = await generateSigningKey('EdDSA');
    const sign = createSigner(privateJwk);
    const jws = await sign(CLAIMS, WEBHOOK_TYP);
    await expect(verifyWebhookDelivery(`${jws}\n`, [other.publicJwk, publicJwk])).resolves.toEqual({ ...CLAIMS, kid: publicJwk.kid });
    await expect(verifyWebhookDelivery(jws, [publicJwk], { webhookId: 'w1' })).resolves.toMatchObject({ jti: 'd1' });

    const refused = (p: Promise<unknown>) => p.then(() => 'accepted', (err: Error) => (err instanceof WebhookDeliveryError ? err.message : `other: ${err.message}`));
    const [h, p, s] = jws.split('.');
    const tampered = `${h}.${Buffer.from(JSON.stringify({ ...CLAIMS, attempt: 2 })).toString('base64url')}.${s}`;
    expect(await refused(verifyWebhookDelivery(tampered, [publicJwk]))).toMatch(/^the signature does not verify/);
    expect(await refused(verifyWebhookDelivery(jws, [other.publicJwk]))).toMatch(/^the signature does not verify .*no such key/);
    expect(await refused(verifyWebhookDelivery(await sign(CLAIMS, 'cordon-receipt+jwt'), [publicJwk]))).toBe('header.typ is "cordon-receipt+jwt", not cordon-webhook+jwt');
    expect(await refused(verifyWebhookDelivery(await sign({ ...CLAIMS, type: 'OTHER' }, WEBHOOK_TYP), [publicJwk]))).toMatch(/^the signed payload is not/);
    expect(await refused(verifyWebhookDelivery(await sign({ ...CLAIMS, aud: 'w2' }, WEBHOOK_TYP), [publicJwk]))).toBe('aud w2 is not the webhookId w1');
    expect(await refused(verifyWebhookDelivery(jws, [publicJwk], { webhookId: 'w9' }))).toBe('the delivery is for webhook w1, not w9');
    expect(await refused(verifyWebhookDelivery(`${h}.${p}`, [publicJwk]))).toMatch(/^not a compact JWS/);
  });
});
