import { parse as parseHost } from 'tldts';
import tr46 from 'tr46';
import { fail } from './refusal.js';

export interface Domain {
  /** ASCII (punycode), lower-case, no trailing dot */
  canonical: string;
  /** The registrable domain (public suffix list, private suffixes included). */
  registrable: string;
  /**
   * Parent domains from the nearest up to and including the registrable domain — the domains
   * whose listing also covers this one. Empty when the domain is itself registrable.
   */
  parents: string[];
}

/**
 * The dots of a defanged name as threat-intel reports write them (`example[.]com`, `example(.)com`,
 * `example{.}com`, `example[dot]com`). None of them can be part of a valid name, so turning them
 * back into '.' never changes the canonical form of a value that was already valid.
 */
const DEFANGED_DOT = /\[\.\]|\(\.\)|\{\.\}|\[dot\]|\(dot\)|\{dot\}/gi;

/** A defanged host name (or authority) with its dots restored; anything else is left as it is. */
export function refangHost(text: string): string {
  return text.replace(DEFANGED_DOT, '.');
}

const LABEL = /^[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?$/;
const IPV4ISH = /^(?:0x[0-9a-f]*|\d+)$/i;

/**
 * For a name already in ASCII letters, digits, '-', '_' and '.', with no punycode label, UTS-46
 * processing is lower-casing plus the hyphen and length checks below; skipping tr46 there keeps
 * batch screening fast. Anything else goes through tr46.
 */
function plainAscii(host: string): string | undefined {
  const lower = host.toLowerCase();
  if (!/^[a-z0-9_.-]+$/.test(lower) || lower.length > 253 || lower.includes('xn--')) return undefined;
  for (const label of lower.split('.')) {
    if (label.length === 0 || label.length > 63) return undefined;
    if (label.startsWith('-') || label.endsWith('-')) return undefined;
  }
  return lower;
}

/**
 * SPEC 3 DOMAIN: UTS-46 to ASCII, lower-case, trailing dot dropped; IPs and single labels refused.
 * A defanged name (`example[.]com`) is taken as the name it stands for.
 */
export function parseDomain(input: string, field = 'value', options: { allowPublicSuffix?: boolean; refang?: boolean } = {}): Domain {
  // One trailing dot means the root; UTS-46 maps 。 ． ｡ to '.', so those count too.
  // A URL's host was refanged once, in its raw text (refangUrl): never again after decoding.
  const host = (options.refang === false ? input.trim() : refangHost(input.trim())).replace(/[.\u3002\uff0e\uff61]$/u, '');
  if (host === '') fail('EMPTY', `${field}: a domain must not be empty`, field);
  if (host.includes('://') || host.includes('/')) fail('INVALID_DOMAIN', `${field}: give the host name only, not a URL`, field);
  if (host.startsWith('[') || host.includes(':')) fail('IP_ADDRESS', `${field}: an IP address (or a port) is not a domain`, field);
  const ascii = plainAscii(host) ?? tr46.toASCII(host, {
    // As browsers (WHATWG URL): hyphens in the 3rd and 4th positions are allowed (r3---sn-….googlevideo.com).
    checkHyphens: false,
    checkBidi: true,
    checkJoiners: true,
    useSTD3ASCIIRules: false,
    verifyDNSLength: true,
    transitionalProcessing: false,
  });
  if (ascii === null) fail('INVALID_DOMAIN', `${field}: not a valid internationalised domain name (UTS-46)`, field);
  const labels = ascii.split('.');
  if (labels.some((l) => l === '')) fail('INVALID_DOMAIN', `${field}: has an empty label`, field);
  const bad = labels.find((l) => !LABEL.test(l));
  if (bad !== undefined) {
    fail('INVALID_DOMAIN', `${field}: label "${bad.slice(0, 63)}" may hold only letters, digits, - and _, not at its ends`, field);
  }
  if (IPV4ISH.test(labels[labels.length - 1])) fail('IP_ADDRESS', `${field}: an IP address is not a domain`, field);
  if (labels.length < 2) fail('SINGLE_LABEL', `${field}: "${ascii}" has a single label; give a full domain name`, field);
  const info = parseHost(ascii, { allowPrivateDomains: true, extractHostname: false });
  if (!info.domain && options.allowPublicSuffix) return { canonical: ascii, registrable: ascii, parents: [] };
  if (!info.domain) {
    fail('PUBLIC_SUFFIX', `${field}: "${ascii}" is a public suffix (like co.uk), under which anyone can register`, field);
  }
  const parents: string[] = [];
  for (let i = 1; i < labels.length; i++) {
    const parent = labels.slice(i).join('.');
    if (parent.length < info.domain.length) break;
    parents.push(parent);
  }
  return { canonical: ascii, registrable: info.domain, parents };
}

/** True for a name that is itself a public suffix (co.uk, s3.amazonaws.com, github.io). */
export function isPublicSuffix(ascii: string): boolean {
  return !parseHost(ascii, { allowPrivateDomains: true, extractHostname: false }).domain;
}
