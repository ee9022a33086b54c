import { type Domain, isPublicSuffix, parseDomain, refangHost } from './domain.js';
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
 * A defanged scheme as threat-intel reports write it: `hxxp://`, `hXXps://`, `http[:]//`,
 * `hxxps[://]` … (`h`, `xx` or `tt`, `p`, an optional `s`, then `://` bare or bracketed).
 */
const DEFANGED_SCHEME = /^h(?:xx|tt)p(s?)(?::\/\/|\[:\]\/\/|\[:\/\/\])/i;
/** scheme `://` authority, then the path, query and fragment */
const AUTHORITY = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#\\]*)/i;

/**
 * Undoes defanging where it is unambiguous: the scheme (`hxxp://` → `http://`) and the dots of
 * the authority (`example[.]com` → `example.com`). The path, query and fragment are left alone: a
 * `[` there is a valid URL character and may be part of the page's address. No defanged form
 * is a valid http(s) URL host, so a value that was already valid keeps its canonical form.
 */
export function refangUrl(text: string): string {
  const scheme = DEFANGED_SCHEME.exec(text);
  const fanged = scheme && !/^https?:\/\//i.test(text) ? `http${scheme[1].toLowerCase()}://${text.slice(scheme[0].length)}` : text;
  return fanged.replace(AUTHORITY, (_, prefix: string, authority: string) => prefix + refangHost(authority));
}

/**
 * SPEC 3 URL: http(s) only; scheme and host lower-cased, default port and fragment dropped, host
 * as DOMAIN, path and query kept (WHATWG serialisation, RFC 3986 percent-encoding normalisation).
 * A defanged URL (`hxxps://example[.]com/…`) is taken as the URL it stands for (refangUrl).
 */
export function parseUrl(input: string, field = 'value'): NormalisedUrl {
  const text = refangUrl(input.trim());
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
    const parsed = parseDomain(hostname, field, { allowPublicSuffix: true, refang: false });
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
