/**
 * The OpenAPI 3.1 description of the bulk screening endpoint, served at GET /v1/openapi.json
 * (README "Screening in bulk"). GraphQL describes itself (schema.graphql, introspection).
 */
const nullableString = { type: ['string', 'null'] };

const screenInput = {
  type: 'object',
  description: 'One line of NDJSON: kind and value (and network), or a fingerprint alone (SPEC 5, the GraphQL ScreenInput).',
  additionalProperties: false,
  properties: {
    kind: { type: ['string', 'null'], enum: ['WALLET_ADDRESS', 'MERCHANT_ID', 'DOMAIN', 'URL', null] },
    value: nullableString,
    network: nullableString,
    fingerprint: { type: ['string', 'null'], pattern: '^[0-9a-fA-F]{64}$' },
  },
};

const indicator = {
  type: ['object', 'null'],
  description: 'The matched indicator as you see it (the GraphQL Indicator fields of the same names).',
  properties: {
    id: { type: 'string', format: 'uuid' },
    kind: { type: 'string' },
    network: nullableString,
    value: { type: 'string' },
    fingerprint: { type: 'string' },
    status: { type: 'string', enum: ['PENDING', 'ACTIVE', 'DISPUTED'] },
    confidence: { type: 'integer' },
    category: { type: 'string' },
    tlp: { type: 'string' },
    attestationCount: { type: 'integer' },
    firstSeenAt: { type: 'string', format: 'date-time' },
    lastSeenAt: { type: 'string', format: 'date-time' },
    supportedUntil: { type: ['string', 'null'], format: 'date-time' },
    createdAt: { type: 'string', format: 'date-time' },
    updatedAt: { type: 'string', format: 'date-time' },
    version: { type: 'integer' },
  },
};

const resultLine = {
  type: 'object',
  description: 'One input’s result, in input order: the GraphQL ScreenResult fields and the input’s 1-based line number (blank lines have none).',
  required: ['line', 'input', 'valid', 'error', 'match'],
  properties: {
    line: { type: 'integer' },
    input: { type: 'string' },
    kind: nullableString,
    network: nullableString,
    normalized: nullableString,
    fingerprint: nullableString,
    valid: { type: 'boolean' },
    error: { ...nullableString, description: 'Why the line is invalid: the field and the reason. One bad line never fails the call.' },
    match: { type: 'boolean' },
    matchedVia: { ...nullableString, enum: ['EXACT', 'FINGERPRINT', 'EVM_ADDRESS', 'PARENT_DOMAIN', 'URL_DOMAIN', 'STANDARD_ADDRESS', null] },
    matchedValue: nullableString,
    pending: { type: 'boolean' },
    disputed: { type: 'boolean' },
    indicator,
  },
};

const summaryLine = {
  type: 'object',
  description: 'The last line of a complete answer. Without it the answer was cut off: screen the lines after the last result again.',
  properties: { summary: { type: 'object', properties: { call: { type: 'string', format: 'uuid' }, lines: { type: 'integer' }, results: { type: 'integer' }, matches: { type: 'integer' } } } },
};

const errorLine = {
  type: 'object',
  description: 'The last line of an answer stopped part-way (key revoked mid-stream, too many lines, body too large, invalid CSV): results before it stand.',
  properties: { error: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' }, field: { type: 'string' }, results: { type: 'integer' } } } },
};

const errors = {
  description: 'The call was refused before any answer: the GraphQL error shape.',
  content: {
    'application/json': {
      schema: {
        type: 'object',
        properties: { errors: { type: 'array', items: { type: 'object', properties: { message: { type: 'string' }, extensions: { type: 'object', properties: { code: { type: 'string' }, field: { type: 'string' } } } } } } },
      },
    },
  },
};

export const BULK_OPENAPI = {
  openapi: '3.1.0',
  info: {
    title: 'Cordon bulk screening',
    version: '1',
    description:
      'Screens millions of values or fingerprints in one streamed call, with the answers, errors, visibility and audit of GraphQL screenBatch. Everything else is GraphQL at POST /graphql (schema.graphql).',
  },
  components: {
    securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT (SPEC 2: ES256 or EdDSA, signed by a principal key)' } },
    schemas: { ScreenInput: screenInput, ScreenResultLine: resultLine, SummaryLine: summaryLine, ErrorLine: errorLine },
  },
  security: [{ bearer: [] }],
  paths: {
    '/v1/screen': {
      post: {
        operationId: 'screenBulk',
        summary: 'Screen a stream of inputs (SCREENER or CURATOR)',
        description:
          'The body is read as the answer is taken: read the response while you send. Each further 10,000 lines count as one more request against your rate limit (the call slows instead of failing). Each 10,000 lines are one audit event listing every fingerprint asked.',
        requestBody: {
          required: true,
          content: {
            'application/x-ndjson': { schema: { $ref: '#/components/schemas/ScreenInput' }, example: '{"kind":"WALLET_ADDRESS","network":"ethereum","value":"0x…"}\n{"fingerprint":"…"}\n' },
            'text/csv': { schema: { type: 'string' }, example: 'kind,network,value\nWALLET_ADDRESS,bitcoin,bc1q…\nDOMAIN,,example.com\n' },
          },
        },
        responses: {
          '200': {
            description: 'One ScreenResultLine per non-blank input line in input order, then a SummaryLine (or an ErrorLine).',
            headers: { 'Cordon-Call-Id': { schema: { type: 'string', format: 'uuid' }, description: 'The call’s id, in its audit events (data.call).' } },
            content: { 'application/x-ndjson': { schema: { oneOf: [{ $ref: '#/components/schemas/ScreenResultLine' }, { $ref: '#/components/schemas/SummaryLine' }, { $ref: '#/components/schemas/ErrorLine' }] } } },
          },
          '401': { ...errors, description: 'UNAUTHENTICATED: no token, or a refused one.' },
          '403': { ...errors, description: 'FORBIDDEN: neither SCREENER nor CURATOR.' },
          '413': { ...errors, description: 'PAYLOAD_TOO_LARGE: Content-Length past CORDON_BULK_MAX_BYTES.' },
          '415': { ...errors, description: 'BAD_USER_INPUT (field content-type): neither NDJSON nor CSV.' },
          '429': { ...errors, description: 'RATE_LIMITED, with Retry-After.' },
        },
      },
    },
    '/v1/openapi.json': { get: { operationId: 'openapi', summary: 'This description', security: [], responses: { '200': { description: 'OpenAPI 3.1' } } } },
  },
} as const;
