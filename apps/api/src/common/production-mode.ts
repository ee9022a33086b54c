/**
 * Imported first by main.ts, before any library reads it: unless NODE_ENV says otherwise, the
 * service runs in production mode. graphql-js then leaves out a development-only diagnosis (a
 * cross-realm check behind every failed `instanceof` when it tests a type: about a tenth of the
 * CPU of a 10,000-input screenBatch). Nothing of ours depends on NODE_ENV; Apollo's choices that
 * would (introspection, stack traces in errors) are set explicitly in graphql/config.ts. Tests
 * run with NODE_ENV=test (Jest sets it) and get graphql-js's checks.
 */
process.env.NODE_ENV ??= 'production';

export {};
