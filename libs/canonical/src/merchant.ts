import countries from 'i18n-iso-countries';
import { fail } from './refusal.js';

/** SPEC 3: a merchant id is unique only within its acquirer. */
export interface MerchantIdInput {
  acquirer: string;
  mid: string;
  mcc?: string | null;
  descriptor?: string | null;
  country?: string | null;
}

export interface MerchantId {
  acquirer: string;
  mid: string;
  mcc?: string;
  descriptor?: string;
  country?: string;
  canonical: string;
}

const MAX_PART = 64;
/** Acquirer names may hold single spaces (e.g. "FIRST DATA"); never the ':' separator. */
const ACQUIRER = /^[A-Z0-9](?:[A-Z0-9&._'-]| (?! ))*$/;
/** Merchant ids: letters, digits and - _ . / (no spaces: a space would make two keys look alike). */
const MID = /^[A-Z0-9][A-Z0-9._/-]*$/;

function part(field: 'acquirer' | 'mid', raw: unknown): string {
  if (typeof raw !== 'string') fail('INVALID_MERCHANT_ID', `${field}: must be a string`, field);
  const trimmed = raw.trim();
  if (trimmed === '') fail('EMPTY', `${field}: must not be empty`, field);
  // ASCII before upper-casing: Unicode case mapping folds ı, ſ, ß, ﬁ … into ASCII letters.
  if (/[^\x20-\x7e]/.test(trimmed)) fail('INVALID_CHARACTERS', `${field}: only ASCII letters, digits and the listed punctuation`, field);
  const value = trimmed.toUpperCase();
  if (value.length > MAX_PART) fail('TOO_LONG', `${field}: at most ${MAX_PART} characters`, field);
  const pattern = field === 'acquirer' ? ACQUIRER : MID;
  if (!pattern.test(value)) {
    fail(
      'INVALID_CHARACTERS',
      field === 'acquirer'
        ? 'acquirer: letters, digits, single spaces and & . _ \' - only, starting with a letter or digit (no ":")'
        : 'mid: letters, digits and - _ . / only, starting with a letter or digit (no spaces, no ":")',
      field,
    );
  }
  return value;
}

/** `{ acquirer, mid, mcc?, descriptor?, country? }` or the string `ACQUIRER:MID`. */
export function parseMerchantId(input: unknown): MerchantId {
  let fields: MerchantIdInput;
  if (typeof input === 'string') {
    const colon = input.indexOf(':');
    if (colon < 0) fail('INVALID_MERCHANT_ID', 'value: a merchant id string is "ACQUIRER:MID"');
    if (input.indexOf(':', colon + 1) >= 0) fail('INVALID_MERCHANT_ID', 'value: a merchant id string has exactly one ":" (ACQUIRER:MID)');
    fields = { acquirer: input.slice(0, colon), mid: input.slice(colon + 1) };
  } else if (typeof input === 'object' && input !== null && !Array.isArray(input)) {
    fields = input as MerchantIdInput;
    const unknown = Object.keys(fields).filter((k) => !['acquirer', 'mid', 'mcc', 'descriptor', 'country'].includes(k));
    if (unknown.length > 0) fail('INVALID_MERCHANT_ID', `value: unknown member ${unknown[0].slice(0, 32)} (acquirer, mid, mcc, descriptor, country)`);
  } else {
    fail('INVALID_MERCHANT_ID', 'value: a merchant id is { acquirer, mid } or the string "ACQUIRER:MID"');
  }
  const acquirer = part('acquirer', fields.acquirer);
  const mid = part('mid', fields.mid);
  const result: MerchantId = { acquirer, mid, canonical: `${acquirer}:${mid}` };
  if (fields.mcc != null) {
    if (typeof fields.mcc !== 'string' || !/^\d{4}$/.test(fields.mcc.trim())) fail('INVALID_MERCHANT_ID', 'mcc: must be 4 digits (ISO 18245)', 'mcc');
    result.mcc = fields.mcc.trim();
  }
  if (fields.country != null) {
    const country = typeof fields.country === 'string' ? fields.country.trim().toUpperCase() : '';
    if (!/^[A-Z]{2}$/.test(country) || !countries.isValid(country)) {
      fail('INVALID_MERCHANT_ID', 'country: must be an ISO 3166-1 alpha-2 code (e.g. "NL")', 'country');
    }
    result.country = country;
  }
  if (fields.descriptor != null) {
    const descriptor = typeof fields.descriptor === 'string' ? fields.descriptor.trim() : '';
    if (descriptor === '' || descriptor.length > 64 || /[\p{Cc}]/u.test(descriptor)) {
      fail('INVALID_MERCHANT_ID', 'descriptor: 1 to 64 printable characters', 'descriptor');
    }
    result.descriptor = descriptor;
  }
  return result;
}
