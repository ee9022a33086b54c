import { type Domain, parseDomain } from './domain.js';
import { sha256Hex } from './hash.js';
import { type MerchantId, parseMerchantId } from './merchant.js';
import { fail, type Refusal, RefusalError, refuse } from './refusal.js';
import { parseUrl } from './url.js';
import { parseWallet } from './wallet/networks.js';

/** SPEC 3 indicator kinds. */
export const INDICATOR_KINDS = ['WALLET_ADDRESS', 'MERCHANT_ID', 'DOMAIN', 'URL'] as const;
export type IndicatorKind = (typeof INDICATOR_KINDS)[number];

/** Longest input accepted per kind, before any parsing. */
export const MAX_INPUT_LENGTH: Record<IndicatorKind, number> = {
  WALLET_ADDRESS: 128,
  MERCHANT_ID: 200,
  DOMAIN: 1024,
  URL: 4096,
};

/** How a screened value reaches an indicator other than by its own key. */
export type MatchVia = 'EXACT' | 'PARENT_DOMAIN' | 'URL_DOMAIN' | 'STANDARD_ADDRESS';

export interface MatchKey {
  fingerprint: string;
  kind: IndicatorKind;
  network: string | null;
  canonical: string;
  via: MatchVia;
}

export interface CanonicalIndicator {
  ok: true;
  kind: IndicatorKind;
  /** canonical network (`ethereum` for every EVM chain); null for kinds without one */
  network: string | null;
  canonical: string;
  /** lower-case hex SHA-256 of `kind|network|canonical` (SPEC 3) */
  fingerprint: string;
  wallet?: { format: string; evmAlias?: string; standard?: string };
  merchant?: MerchantId;
  domain?: Domain;
  /** for URL: the host as a DOMAIN (null for an IP host) */
  urlDomain?: Domain | null;
}

export type ParseResult = CanonicalIndicator | Refusal;

/** SPEC 3 fingerprint: lower-case hex SHA-256 of UTF-8 `kind|network|canonical`. */
export function fingerprint(kind: IndicatorKind, network: string | null | undefined, canonical: string): string {
  return sha256Hex(`${kind}|${network ?? ''}|${canonical}`);
}

/** SPEC 4: a reported site's fingerprint is the SHA-256 hex of its normalised URL. */
export function siteFingerprint(url: string): { canonical: string; fingerprint: string } | Refusal {
  try {
    const { canonical } = parseUrl(url);
    return { canonical, fingerprint: sha256Hex(canonical) };
  } catch (err) {
    return asRefusal(err);
  }
}

function asRefusal(err: unknown): Refusal {
  if (err instanceof RefusalError) return err.refusal;
  // Never an untyped throw, whatever the input: an unexpected failure is still a refusal.
  return refuse('UNRECOGNISED_FORMAT', 'value: could not be parsed');
}

function textValue(kind: IndicatorKind, value: unknown): string {
  if (typeof value !== 'string') fail('INVALID_CHARACTERS', 'value: must be a string');
  if (value.length > MAX_INPUT_LENGTH[kind] * 4) fail('TOO_LONG', `value: at most ${MAX_INPUT_LENGTH[kind]} characters`);
  const text = value.trim();
  if (text === '') fail('EMPTY', 'value: must not be empty');
  if (text.length > MAX_INPUT_LENGTH[kind]) fail('TOO_LONG', `value: at most ${MAX_INPUT_LENGTH[kind]} characters`);
  if (/[\s\p{Cc}]/u.test(text) && kind !== 'MERCHANT_ID') {
    fail('INVALID_CHARACTERS', 'value: must not contain spaces or control characters');
  }
  return text;
}

function parseUnsafe(kind: unknown, value: unknown, network: unknown): CanonicalIndicator {
  if (typeof kind !== 'string' || !(INDICATOR_KINDS as readonly string[]).includes(kind)) {
    fail('UNSUPPORTED_KIND', `kind: must be one of ${INDICATOR_KINDS.join(', ')}`, 'kind');
  }
  const k = kind as IndicatorKind;
  const givenNetwork = network === undefined || network === null || (typeof network === 'string' && network.trim() === '') ? undefined : network;
  if (givenNetwork !== undefined && typeof givenNetwork !== 'string') fail('UNSUPPORTED_NETWORK', 'network: must be a string', 'network');
  if (k !== 'WALLET_ADDRESS' && givenNetwork !== undefined) {
    fail('NETWORK_NOT_ALLOWED', `network: only WALLET_ADDRESS indicators have a network, not ${k}`, 'network');
  }
  switch (k) {
    case 'WALLET_ADDRESS': {
      const w = parseWallet(textValue(k, value), givenNetwork as string | undefined);
      const wallet = { format: w.format, ...(w.evmAlias ? { evmAlias: w.evmAlias } : {}), ...(w.standard ? { standard: w.standard } : {}) };
      return { ok: true, kind: k, network: w.network, canonical: w.canonical, fingerprint: fingerprint(k, w.network, w.canonical), wallet };
    }
    case 'MERCHANT_ID': {
      if (typeof value === 'string' && value.length > MAX_INPUT_LENGTH.MERCHANT_ID) fail('TOO_LONG', `value: at most ${MAX_INPUT_LENGTH.MERCHANT_ID} characters`);
      const merchant = parseMerchantId(value);
      return { ok: true, kind: k, network: null, canonical: merchant.canonical, fingerprint: fingerprint(k, null, merchant.canonical), merchant };
    }
    case 'DOMAIN': {
      const domain = parseDomain(textValue(k, value));
      return { ok: true, kind: k, network: null, canonical: domain.canonical, fingerprint: fingerprint(k, null, domain.canonical), domain };
    }
    case 'URL': {
      const url = parseUrl(textValue(k, value));
      return { ok: true, kind: k, network: null, canonical: url.canonical, fingerprint: fingerprint(k, null, url.canonical), urlDomain: url.domain };
    }
  }
}

/**
 * Parses, validates and canonicalises one indicator value (SPEC 3). Returns the canonical form
 * and fingerprint, or a Refusal whose code and message say exactly what is wrong. Never throws.
 */
export function parse(kind: unknown, value: unknown, network?: unknown): ParseResult {
  try {
    return parseUnsafe(kind, value, network);
  } catch (err) {
    return asRefusal(err);
  }
}

/**
 * Every key a screened value matches under: its own (EXACT), each listed parent domain
 * (PARENT_DOMAIN), for a URL its host and the host's parents as DOMAIN (URL_DOMAIN), and for a
 * Monero integrated address the standard address of the same wallet (STANDARD_ADDRESS).
 */
export function matchKeys(indicator: CanonicalIndicator): MatchKey[] {
  const keys: MatchKey[] = [
    { fingerprint: indicator.fingerprint, kind: indicator.kind, network: indicator.network, canonical: indicator.canonical, via: 'EXACT' },
  ];
  const domainKeys = (domains: string[], via: MatchVia) =>
    domains.map((d) => ({ fingerprint: fingerprint('DOMAIN', null, d), kind: 'DOMAIN' as const, network: null, canonical: d, via }));
  if (indicator.kind === 'DOMAIN' && indicator.domain) keys.push(...domainKeys(indicator.domain.parents, 'PARENT_DOMAIN'));
  const standard = indicator.wallet?.standard;
  if (standard) {
    keys.push({ fingerprint: fingerprint('WALLET_ADDRESS', indicator.network, standard), kind: 'WALLET_ADDRESS', network: indicator.network, canonical: standard, via: 'STANDARD_ADDRESS' });
  }
  if (indicator.kind === 'URL' && indicator.urlDomain) {
    keys.push(...domainKeys([indicator.urlDomain.canonical, ...indicator.urlDomain.parents], 'URL_DOMAIN'));
  }
  return keys;
}

/** How a screening answer names the key that matched: matchKeys' ways, and an EVM chain's address as the ethereum one. */
export type ScreeningVia = MatchVia | 'EVM_ADDRESS';

export interface ScreeningKey {
  fingerprint: string;
  via: ScreeningVia;
  canonical: string;
}

export type ScreeningKeys = { ok: true; indicator: CanonicalIndicator; keys: ScreeningKey[] } | { ok: false; error: string };

/**
 * What screening looks up for one value (SPEC 5), in priority order — the value's own key first,
 * then nearer parents before farther: matchKeys, with the own key of an address given on another
 * EVM chain named EVM_ADDRESS. Or, for a value that cannot be screened, the error screening
 * answers: `field: reason (CODE)`. One rule for the service and for a member that screens by
 * fingerprint only (`cordon screen --fingerprints` hashes these keys locally and sends only them).
 */
export function screeningKeys(kind: unknown, value: unknown, network?: unknown): ScreeningKeys {
  const parsed = parse(kind, value, network);
  if (!parsed.ok) {
    return { ok: false, error: `${parsed.field}: ${parsed.message.replace(/^(value|network|kind|acquirer|mid|mcc|country|descriptor): /, '')} (${parsed.code})` };
  }
  const evm = Boolean(parsed.wallet?.evmAlias);
  return {
    ok: true,
    indicator: parsed,
    keys: matchKeys(parsed).map((k) => ({ fingerprint: k.fingerprint, via: k.via === 'EXACT' && evm ? 'EVM_ADDRESS' : k.via, canonical: k.canonical })),
  };
}
