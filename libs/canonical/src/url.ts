import { type Domain, isPublicSuffix, parseDomain } from './domain.js';
import { fail } from './refusal.js';

export interface NormalisedUrl {
  canonical: string;
  /** The host's DOMAIN form; null when the host is an IP address or a public suffix. */
  domain: Domain | null;
}

const UNRESERVED = /[A-Za-z0-9\-._~]/;

/**
 * RFC 3986 6.2.2: percent-encodings use upper-case hex, and encoded unreserved characters are
 * decoded; nothing else in the path or query changes.
 */
function normalisePercent(text: string): string {
  return text.replace(/%([0-9a-fA-F]{2})/g, (_, hex: string) => {
    const ch = String.fromCharCode(parseInt(hex, 16));
    return UNRESERVED.test(ch) ? ch : `%${hex.toUpperCase()}`;
  });
}

/**
 * SPEC 3 URL: http(s) only; scheme and host lower-cased, default port and fragment dropped, host
 * as DOMAIN, path and query kept (WHATWG serialisation, RFC 3986 percent-encoding normalisation).
 */
export function parseUrl(input: string, field = 'value'): NormalisedUrl {
  const text = input.trim();
  if (text === '') fail('EMPTY', `${field}: a URL must not be empty`, field);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    fail('INVALID_URL', `${field}: not an absolute URL (expected http:// or https://…)`, field);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    fail('UNSUPPORTED_SCHEME', `${field}: only http and https URLs are accepted, not ${url.protocol.slice(0, 16)}`, field);
  }
  const hostname = url.hostname;
  let domain: Domain | null = null;
  let host = hostname;
  if (!(hostname.startsWith('[') || /^[\d.]+$/.test(hostname))) {
    // A page on a shared host (s3.amazonaws.com/bucket/…, x.github.io) is still a URL; only its
    // host cannot be matched as a DOMAIN when it is a public suffix.
    const parsed = parseDomain(hostname, field, { allowPublicSuffix: true });
    host = parsed.canonical;
    domain = parsed.registrable === parsed.canonical && parsed.parents.length === 0 && isPublicSuffix(parsed.canonical) ? null : parsed;
  }
  const port = url.port ? `:${url.port}` : '';
  const path = normalisePercent(url.pathname || '/');
  const query = normalisePercent(url.search);
  // User name and password do not change the resource: dropped, so per-victim userinfo cannot
  // make one page look like many.
  return { canonical: `${url.protocol}//${host}${port}${path}${query}`, domain };
}
