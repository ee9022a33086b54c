import { ConfigError, loadConfig } from './config.js';

function refusal(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('has the SPEC defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ port: 3000, audience: 'cordon', databaseUrl: undefined, exchangeKeyAlg: 'EdDSA' });
    expect(config.dataDir.endsWith('/data')).toBe(true);
  });

  it.each([
    [{ PORT: 'abc' }, 'PORT', /whole number/],
    [{ PORT: '70000' }, 'PORT', /between 0 and 65535/],
    [{ DATABASE_URL: 'not a url' }, 'DATABASE_URL', /not a valid URL/],
    [{ DATABASE_URL: 'mysql://h/db' }, 'DATABASE_URL', /postgres:\/\//],
    [{ DATABASE_URL: 'postgres://h:5432' }, 'DATABASE_URL', /must name a database/],
    [{ CORDON_BOOTSTRAP_ADMIN_JWK: '{not json' }, 'CORDON_BOOTSTRAP_ADMIN_JWK', /not valid JSON/],
    [{ CORDON_BOOTSTRAP_ADMIN_JWK: '[1]' }, 'CORDON_BOOTSTRAP_ADMIN_JWK', /JSON object/],
    [{ CORDON_BOOTSTRAP_ADMIN_JWK: '{"kty":"EC","d":"secret"}' }, 'CORDON_BOOTSTRAP_ADMIN_JWK', /private key/],
    [{ CORDON_EXCHANGE_KEY_ALG: 'RS256' }, 'CORDON_EXCHANGE_KEY_ALG', /ES256, EdDSA/],
    [{ CORDON_KEY_ENCRYPTION_KEY: 'short' }, 'CORDON_KEY_ENCRYPTION_KEY', /32 random bytes/],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL', /one of/],
    [{ CORDON_MAX_BODY_BYTES: '5' }, 'CORDON_MAX_BODY_BYTES', /between/],
    [{ CORDON_METRICS_TOKEN: 'short' }, 'CORDON_METRICS_TOKEN', /at least 32/],
    [{ CORDON_SCREEN_INDEX: 'maybe' }, 'CORDON_SCREEN_INDEX', /one of/],
  ])('refuses %j naming the setting', (env, setting, reason) => {
    const err = refusal(env as Record<string, string>);
    expect(err.setting).toBe(setting);
    expect(err.message).toContain(setting);
    expect(err.message).toMatch(reason);
  });

  it('never echoes a DATABASE_URL, which may carry a password', () => {
    const err = refusal({ DATABASE_URL: 'postgres://user:hunter2@/x y' });
    expect(err.message).not.toContain('hunter2');
  });

  it('never echoes a CORDON_METRICS_TOKEN', () => {
    const err = refusal({ CORDON_METRICS_TOKEN: 'secret with spaces that is long enough to pass' });
    expect(err.message).not.toContain('secret with');
  });

  it('never echoes the private part of a bootstrap JWK', () => {
    const err = refusal({ CORDON_BOOTSTRAP_ADMIN_JWK: '{"kty":"EC","d":"topsecretvalue"}' });
    expect(err.message).not.toContain('topsecretvalue');
  });
});
