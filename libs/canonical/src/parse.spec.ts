import { createHash } from 'node:crypto';
import { fingerprint, matchKeys, parse, siteFingerprint, type CanonicalIndicator, type ParseResult } from './index.js';

function ok(result: ParseResult): CanonicalIndicator {
  if (!result.ok) throw new Error(`refused: ${result.code} ${result.message}`);
  return result;
}

function refusal(result: ParseResult) {
  if (result.ok) throw new Error(`accepted: ${result.canonical}`);
  return result;
}

describe('fingerprint (SPEC 3)', () => {
  it('is lower-case hex SHA-256 of kind|network|canonical, network empty where none', () => {
    const expected = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');
    expect(fingerprint('WALLET_ADDRESS', 'bitcoin', 'bc1qx')).toBe(expected('WALLET_ADDRESS|bitcoin|bc1qx'));
    expect(fingerprint('DOMAIN', null, 'xn--bcher-kva.example')).toBe(expected('DOMAIN||xn--bcher-kva.example'));
    const parsed = ok(parse('DOMAIN', 'Bücher.example'));
    expect(parsed.fingerprint).toBe(expected('DOMAIN||xn--bcher-kva.example'));
    expect(parsed.fingerprint).toMatch(/^[0-9a-f]{64}$/);
  });

  it('a reported site’s fingerprint is the SHA-256 of its normalised URL', () => {
    const site = siteFingerprint('HTTPS://Example.COM:443/Path#x');
    expect(site).toEqual({ canonical: 'https://example.com/Path', fingerprint: createHash('sha256').update('https://example.com/Path').digest('hex') });
  });
});

describe('wallet addresses', () => {
  it.each([
    ['bitcoin P2PKH', '1BpEi6DfDAUFd7GtittLSdBeYJvcoaVggu', undefined, 'bitcoin', '1BpEi6DfDAUFd7GtittLSdBeYJvcoaVggu', 'p2pkh'],
    ['bitcoin P2SH', '3CWFddi6m4ndiGyKqzYvsFYagqDLPVMTzC', 'bitcoin', 'bitcoin', '3CWFddi6m4ndiGyKqzYvsFYagqDLPVMTzC', 'p2sh'],
    ['bech32 upper-case', 'BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4', undefined, 'bitcoin', 'bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4', 'p2wpkh'],
    ['EIP-55 with an EVM alias', '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed', 'Polygon', 'ethereum', '0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed', 'account'],
    ['ethereum all lower-case', '0xfb6916095ca1df60bb79ce92ce3ea74c37c5d359', 'ethereum', 'ethereum', '0xfb6916095ca1df60bb79ce92ce3ea74c37c5d359', 'account'],
    ['cashaddr without prefix', 'qpm2qsznhks23z7629mms6s4cwef74vcwvy22gdx6a', undefined, 'bitcoin-cash', 'bitcoincash:qpm2qsznhks23z7629mms6s4cwef74vcwvy22gdx6a', 'cashaddr-p2pkh'],
    ['cashaddr upper-case with prefix', 'BITCOINCASH:QPM2QSZNHKS23Z7629MMS6S4CWEF74VCWVY22GDX6A', 'bitcoin-cash', 'bitcoin-cash', 'bitcoincash:qpm2qsznhks23z7629mms6s4cwef74vcwvy22gdx6a', 'cashaddr-p2pkh'],
    ['legacy address given as bitcoin-cash', '1BpEi6DfDAUFd7GtittLSdBeYJvcoaVggu', 'bitcoin-cash', 'bitcoin-cash', 'bitcoincash:qpm2qsznhks23z7629mms6s4cwef74vcwvy22gdx6a', 'cashaddr-p2pkh'],
    ['tron', 'TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t', undefined, 'tron', 'TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t', 'account'],
    ['solana', 'TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA', undefined, 'solana', 'TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA', 'account'],
    ['surrounding whitespace', '  1BpEi6DfDAUFd7GtittLSdBeYJvcoaVggu\n', 'bitcoin', 'bitcoin', '1BpEi6DfDAUFd7GtittLSdBeYJvcoaVggu', 'p2pkh'],
  ])('%s', (_name, value, network, expectNetwork, canonical, format) => {
    const parsed = ok(parse('WALLET_ADDRESS', value, network));
    expect(parsed).toMatchObject({ network: expectNetwork, canonical, wallet: { format } });
    expect(parsed.fingerprint).toBe(fingerprint('WALLET_ADDRESS', expectNetwork, canonical));
  });

  it('says when an EVM alias was used, and gives the same key as ethereum', () => {
    const viaAlias = ok(parse('WALLET_ADDRESS', '0xfb6916095ca1df60bb79ce92ce3ea74c37c5d359', 'bsc'));
    const direct = ok(parse('WALLET_ADDRESS', '0xFB6916095CA1DF60BB79CE92CE3EA74C37C5D359', 'ethereum'));
    expect(viaAlias.wallet?.evmAlias).toBe('bsc');
    expect(direct.wallet?.evmAlias).toBeUndefined();
    expect(viaAlias.fingerprint).toBe(direct.fingerprint);
  });

  it.each([
    ['mixed-case bech32', 'bc1qW508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4', 'bitcoin', 'MIXED_CASE'],
    ['testnet bech32', 'tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx', 'bitcoin', 'TESTNET_ADDRESS'],
    ['regtest bech32', 'bcrt1qs758ursh4q9z627kt3pp5yysm78ddny6txaqgw', 'bitcoin', 'TESTNET_ADDRESS'],
    ['testnet base58 (m…)', 'mipcBbFg9gMiCh81Kj8tqqdgoZub1ZJRfn', 'bitcoin', 'TESTNET_ADDRESS'],
    ['bad base58 checksum', '1BpEi6DfDAUFd7GtittLSdBeYJvcoaVggv', 'bitcoin', 'BAD_CHECKSUM'],
    ['bad bech32 checksum', 'bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5', 'bitcoin', 'BAD_CHECKSUM'],
    ['bad EIP-55 checksum', '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD', 'ethereum', 'BAD_CHECKSUM'],
    ['ethereum wrong length', '0x5aaeb6053f3e94c9b9a09f33669435e7ef1bea', 'ethereum', 'BAD_LENGTH'],
    ['ethereum non-hex', '0x5aaeb6053f3e94c9b9a09f33669435e7ef1beagg', 'ethereum', 'INVALID_CHARACTERS'],
    ['base58 with a zero', '1BpEi6DfDAUFd7GtittLSdBeYJvcoaVgg0', 'bitcoin', 'INVALID_CHARACTERS'],
    ['unknown network', '1BpEi6DfDAUFd7GtittLSdBeYJvcoaVggu', 'dogecoin', 'UNSUPPORTED_NETWORK'],
    ['address of another network', '0xfb6916095ca1df60bb79ce92ce3ea74c37c5d359', 'bitcoin', 'NETWORK_MISMATCH'],
    ['cashaddr test prefix', 'bchtest:qpm2qsznhks23z7629mms6s4cwef74vcwvy22gdx6a', 'bitcoin-cash', 'TESTNET_ADDRESS'],
    ['cashaddr bad checksum', 'bitcoincash:qpm2qsznhks23z7629mms6s4cwef74vcwvy22gdx6c', 'bitcoin-cash', 'BAD_CHECKSUM'],
    ['tron with a bitcoin version byte', '1BpEi6DfDAUFd7GtittLSdBeYJvcoaVggu', 'tron', 'NETWORK_MISMATCH'],
    ['empty', '   ', undefined, 'EMPTY'],
    ['oversized', 'x'.repeat(129), undefined, 'TOO_LONG'],
    ['inner space', '1BpEi6DfDAUFd7Gt ittLSdBeYJvcoaVggu', undefined, 'INVALID_CHARACTERS'],
    ['unrecognised', 'hello-world', undefined, 'UNRECOGNISED_FORMAT'],
  ])('refuses %s', (_name, value, network, code) => {
    const result = refusal(parse('WALLET_ADDRESS', value, network));
    expect(result.code).toBe(code);
    expect(result.message.length).toBeGreaterThan(10);
  });

  it('refuses a non-string value without throwing', () => {
    for (const value of [null, undefined, 42, {}, [], Symbol('x')]) {
      expect(parse('WALLET_ADDRESS', value).ok).toBe(false);
    }
  });
});

describe('merchant ids', () => {
  it('canonicalises { acquirer, mid } and the ACQUIRER:MID string to the same key', () => {
    const object = ok(parse('MERCHANT_ID', { acquirer: ' Adyen ', mid: 'abc-123', mcc: '5967', country: 'nl', descriptor: 'SHOP*X' }));
    const text = ok(parse('MERCHANT_ID', 'adyen:ABC-123'));
    expect(object.canonical).toBe('ADYEN:ABC-123');
    expect(object.merchant).toMatchObject({ mcc: '5967', country: 'NL', descriptor: 'SHOP*X' });
    expect(text.fingerprint).toBe(object.fingerprint);
    expect(object.network).toBeNull();
  });

  it.each([
    [{ acquirer: '', mid: 'x' }, 'EMPTY', 'acquirer'],
    [{ acquirer: 'A', mid: 'x y' }, 'INVALID_CHARACTERS', 'mid'],
    [{ acquirer: 'A:B', mid: 'x' }, 'INVALID_CHARACTERS', 'acquirer'],
    [{ acquirer: 'A', mid: 'x', mcc: '59' }, 'INVALID_MERCHANT_ID', 'mcc'],
    [{ acquirer: 'A', mid: 'x', country: 'XX' }, 'INVALID_MERCHANT_ID', 'country'],
    [{ acquirer: 'A', mid: 'x'.repeat(65) }, 'TOO_LONG', 'mid'],
    [{ acquirer: 'A', mid: 'x', extra: 1 }, 'INVALID_MERCHANT_ID', 'value'],
    ['NOCOLON', 'INVALID_MERCHANT_ID', 'value'],
    ['A:B:C', 'INVALID_MERCHANT_ID', 'value'],
  ])('refuses %j', (value, code, field) => {
    const result = refusal(parse('MERCHANT_ID', value));
    expect({ code: result.code, field: result.field }).toEqual({ code, field });
  });

  it('refuses a network for a kind that has none', () => {
    expect(refusal(parse('MERCHANT_ID', 'A:B', 'bitcoin'))).toMatchObject({ code: 'NETWORK_NOT_ALLOWED', field: 'network' });
  });
});

describe('domains (UTS-46)', () => {
  it.each([
    ['bücher.example', 'xn--bcher-kva.example'],
    ['BÜCHER.Example.', 'xn--bcher-kva.example'],
    ['WWW.Example.COM', 'www.example.com'],
    ['xn--bcher-kva.example', 'xn--bcher-kva.example'],
    ['faß.de', 'xn--fa-hia.de'],
    ['_dmarc.example.com', '_dmarc.example.com'],
  ])('%s → %s', (input, canonical) => {
    expect(ok(parse('DOMAIN', input)).canonical).toBe(canonical);
  });

  it('lists the parents up to the registrable domain (public suffix list, private suffixes too)', () => {
    expect(ok(parse('DOMAIN', 'a.b.shop.example.co.uk')).domain).toEqual({
      canonical: 'a.b.shop.example.co.uk',
      registrable: 'example.co.uk',
      parents: ['b.shop.example.co.uk', 'shop.example.co.uk', 'example.co.uk'],
    });
    expect(ok(parse('DOMAIN', 'example.com')).domain!.parents).toEqual([]);
    expect(ok(parse('DOMAIN', 'x.evil.github.io')).domain!.parents).toEqual(['evil.github.io']);
  });

  it.each([
    ['192.168.0.1', 'IP_ADDRESS'],
    ['[::1]', 'IP_ADDRESS'],
    ['localhost', 'SINGLE_LABEL'],
    ['co.uk', 'PUBLIC_SUFFIX'],
    ['-bad.example', 'INVALID_DOMAIN'],
    ['a..example', 'INVALID_DOMAIN'],
    ['exa mple.com', 'INVALID_CHARACTERS'],
    ['a64.com', 'INVALID_DOMAIN'],
    ['', 'EMPTY'],
  ])('refuses %s', (input, code) => {
    const value = input === 'a64.com' ? `${'a'.repeat(64)}.com` : input; // a 64-character label
    expect(refusal(parse('DOMAIN', value)).code).toBe(code);
  });
});

describe('URLs', () => {
  it.each([
    ['HTTPS://WWW.Example.COM:443/a/b?q=1#frag', 'https://www.example.com/a/b?q=1'],
    ['http://example.com:80', 'http://example.com/'],
    ['http://example.com:8080/x', 'http://example.com:8080/x'],
    ['https://bücher.example/Ä?x=%7e&y=%2f%3A', 'https://xn--bcher-kva.example/%C3%84?x=~&y=%2F%3A'],
    ['https://example.com/a/./b/../c', 'https://example.com/a/c'],
    ['https://example.com/Case/Kept?Q=Kept', 'https://example.com/Case/Kept?Q=Kept'],
    ['http://203.0.113.9/x', 'http://203.0.113.9/x'],
  ])('%s → %s', (input, canonical) => {
    expect(ok(parse('URL', input)).canonical).toBe(canonical);
  });

  it('matches its host and the host’s parents as DOMAIN', () => {
    const keys = matchKeys(ok(parse('URL', 'https://a.shop.example.com/x')));
    expect(keys.map((k) => [k.via, k.kind, k.canonical])).toEqual([
      ['EXACT', 'URL', 'https://a.shop.example.com/x'],
      ['URL_DOMAIN', 'DOMAIN', 'a.shop.example.com'],
      ['URL_DOMAIN', 'DOMAIN', 'shop.example.com'],
      ['URL_DOMAIN', 'DOMAIN', 'example.com'],
    ]);
    expect(keys[3].fingerprint).toBe(ok(parse('DOMAIN', 'example.com')).fingerprint);
  });

  it.each([
    ['ftp://example.com/x', 'UNSUPPORTED_SCHEME'],
    ['javascript:alert(1)', 'UNSUPPORTED_SCHEME'],
    ['example.com/x', 'INVALID_URL'],
    ['https://localhost/x', 'SINGLE_LABEL'],
    ['a 5,000-character URL', 'TOO_LONG'],
  ])('refuses %s', (input, code) => {
    const value = input.startsWith('a 5,000') ? `https://example.com/${'a'.repeat(5000)}` : input;
    expect(refusal(parse('URL', value)).code).toBe(code);
  });
});

it('refuses an unknown kind', () => {
  expect(refusal(parse('EMAIL', 'x@example.com'))).toMatchObject({ code: 'UNSUPPORTED_KIND', field: 'kind' });
});

describe('review findings (false and missed matches)', () => {
  it('keeps a page on a shared host (a public suffix) as a URL, without a DOMAIN match key', () => {
    const url = ok(parse('URL', 'https://s3.amazonaws.com/evil-bucket/login.html'));
    expect(url.canonical).toBe('https://s3.amazonaws.com/evil-bucket/login.html');
    expect(url.urlDomain).toBeNull();
    expect(matchKeys(url).map((k) => k.via)).toEqual(['EXACT']);
  });

  it('detects a solana key that happens to start with bc1', () => {
    expect(ok(parse('WALLET_ADDRESS', 'bc1veh4ESYEfGpM5uK9wn1UGog5fp8anuAQkrzqSwZP'))).toMatchObject({ network: 'solana' });
  });

  it('gives litecoin legacy 3… and M… for the same script one key', () => {
    const legacy = ok(parse('WALLET_ADDRESS', '3GBygsGPvTdfKMbq4AKZZRu1sPMWPEsBfd', 'litecoin'));
    expect(legacy.canonical).toMatch(/^M/);
    expect(ok(parse('WALLET_ADDRESS', legacy.canonical, 'litecoin')).fingerprint).toBe(legacy.fingerprint);
  });

  it('refuses cashaddr version bytes Bitcoin Cash does not define', () => {
    expect(refusal(parse('WALLET_ADDRESS', 'bitcoincash:spm2qsznhks23z7629mms6s4cwef74vcwv4glwxl5g', 'bitcoin-cash')).code).toBe('UNKNOWN_VERSION');
    expect(refusal(parse('WALLET_ADDRESS', 'bitcoincash:qvch8mmxy0rtfrlarg7ucrxxfzds5pamg73h7370aa87d80gyhqxq5nlegake', 'bitcoin-cash')).code).toBe('BAD_LENGTH');
  });

  it('drops URL userinfo, so per-victim user names cannot make one page many', () => {
    const a = ok(parse('URL', 'https://victim1@evil.example/pay'));
    const b = ok(parse('URL', 'https://evil.example/pay'));
    expect(a.canonical).toBe('https://evil.example/pay');
    expect(a.fingerprint).toBe(b.fingerprint);
  });

  it('refuses non-ASCII merchant ids instead of folding them into ASCII keys', () => {
    expect(refusal(parse('MERCHANT_ID', 'acq:mıd'))).toMatchObject({ code: 'INVALID_CHARACTERS', field: 'mid' });
    expect(refusal(parse('MERCHANT_ID', 'straße:mid'))).toMatchObject({ code: 'INVALID_CHARACTERS', field: 'acquirer' });
  });

  it('accepts hyphens in the 3rd and 4th positions, as browsers do, and a trailing ideographic dot', () => {
    expect(ok(parse('DOMAIN', 'r3---sn-4g5e6nz7.googlevideo.com')).canonical).toBe('r3---sn-4g5e6nz7.googlevideo.com');
    expect(ok(parse('DOMAIN', 'example.com。')).canonical).toBe('example.com');
  });

  it('says a URL given as a DOMAIN is a URL', () => {
    expect(refusal(parse('DOMAIN', 'https://example.com')).message).toMatch(/host name only, not a URL/);
  });
});

describe('defanged domains and URLs (issue 18.7)', () => {
  it.each([
    ['example[.]com', 'example.com'],
    ['shop(.)Example(.)COM', 'shop.example.com'],
    ['shop{.}example[DOT]com', 'shop.example.com'],
    ['pay-abuse[.]example[.]co[.]uk[.]', 'pay-abuse.example.co.uk'],
    ['bücher[.]example', 'xn--bcher-kva.example'],
  ])('DOMAIN %s → %s, with the fingerprint of the fanged name', (input, canonical) => {
    const parsed = ok(parse('DOMAIN', input));
    expect(parsed.canonical).toBe(canonical);
    expect(parsed.fingerprint).toBe(ok(parse('DOMAIN', canonical)).fingerprint);
    expect(parsed.domain!.parents).toEqual(ok(parse('DOMAIN', canonical)).domain!.parents);
  });

  it.each([
    ['hxxp://example[.]com/a', 'http://example.com/a'],
    ['hxxps://example[.]com/a', 'https://example.com/a'],
    ['hXXps://Shop(.)Example{.}com:443/Pay?x=1', 'https://shop.example.com/Pay?x=1'],
    ['HXXP://example[dot]com', 'http://example.com/'],
    ['https[:]//example[.]com/a', 'https://example.com/a'],
    ['hxxps[://]example[.]com/a', 'https://example.com/a'],
    ['http[://]203[.]0[.]113[.]9/x', 'http://203.0.113.9/x'],
    ['hxxps://user(dot)name@example[.]com/a', 'https://example.com/a'],
  ])('URL %s → %s, with the fingerprint of the fanged URL', (input, canonical) => {
    const parsed = ok(parse('URL', input));
    expect(parsed.canonical).toBe(canonical);
    expect(parsed.fingerprint).toBe(ok(parse('URL', canonical)).fingerprint);
    expect(matchKeys(parsed).map((k) => k.fingerprint)).toEqual(matchKeys(ok(parse('URL', canonical))).map((k) => k.fingerprint));
  });

  it('refangs only the scheme and the host of a URL: brackets in the path and query are the page’s own', () => {
    // WHATWG leaves [ ] in a path and a query as they are; "[.]" there is part of the address.
    expect(ok(parse('URL', 'hxxps://example[.]com/a[.]b/[dot]?q=[.]&r=(.)')).canonical).toBe('https://example.com/a[.]b/[dot]?q=[.]&r=(.)');
    expect(ok(parse('URL', 'https://example.com/a[.]b')).canonical).toBe('https://example.com/a[.]b');
    expect(ok(parse('URL', 'https://example[.]com\\a[.]b')).canonical).toBe('https://example.com/a[.]b');
  });

  it('keeps the canonical form of values that were already valid', () => {
    expect(ok(parse('URL', 'HTTPS://WWW.Example.COM:443/a/b?q=1#frag')).canonical).toBe('https://www.example.com/a/b?q=1');
    expect(ok(parse('URL', 'http://[2001:db8::1]/x')).canonical).toBe('http://[2001:db8::1]/x');
    expect(ok(parse('DOMAIN', 'WWW.Example.COM.')).canonical).toBe('www.example.com');
  });

  it('still refuses what is not a URL or a domain once refanged, naming the value', () => {
    expect(refusal(parse('URL', 'fxp://example[.]com/'))).toMatchObject({ code: 'UNSUPPORTED_SCHEME', field: 'value', message: expect.stringMatching(/^value: /) });
    expect(refusal(parse('URL', 'hxxp://localhost[.]/x'))).toMatchObject({ code: 'SINGLE_LABEL', field: 'value' });
    expect(refusal(parse('URL', 'example[.]com/x'))).toMatchObject({ code: 'INVALID_URL', field: 'value' });
    expect(refusal(parse('DOMAIN', 'hxxp://example[.]com'))).toMatchObject({ code: 'INVALID_DOMAIN', message: 'value: give the host name only, not a URL' });
    expect(refusal(parse('DOMAIN', 'co[.]uk'))).toMatchObject({ code: 'PUBLIC_SUFFIX' });
    expect(refusal(parse('DOMAIN', 'example[.com'))).toMatchObject({ code: 'INVALID_DOMAIN', field: 'value' });
    expect(refusal(parse('DOMAIN', 'example[x]com'))).toMatchObject({ field: 'value' });
  });
});

describe('network tickers (issue 18.7)', () => {
  it.each([
    ['btc', 'bitcoin', '1BpEi6DfDAUFd7GtittLSdBeYJvcoaVggu'],
    ['BTC', 'bitcoin', 'bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4'],
    ['Eth', 'ethereum', '0xfb6916095ca1df60bb79ce92ce3ea74c37c5d359'],
    ['ltc', 'litecoin', 'LM2WMpR1Rp6j3Sa59cMXMs1SPzj9eXpGc1'],
    ['bch', 'bitcoin-cash', 'qpm2qsznhks23z7629mms6s4cwef74vcwvy22gdx6a'],
    ['XMR', 'monero', '4AdUndXHHZ6cfufTMvppY6JwXNouMBzSkbLYfpAV5Usx3skxNgYeYTRj5UzqtReoS44qo9mtmXCqY45DJ852K5Jv2684Rge'],
    ['sol', 'solana', 'TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA'],
    ['trx', 'tron', 'TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t'],
    ['Bitcoin', 'bitcoin', '1BpEi6DfDAUFd7GtittLSdBeYJvcoaVggu'],
    ['BITCOIN-CASH', 'bitcoin-cash', 'qpm2qsznhks23z7629mms6s4cwef74vcwvy22gdx6a'],
  ])('%s is %s: the same key as the canonical name', (ticker, network, value) => {
    const viaTicker = ok(parse('WALLET_ADDRESS', value, ticker));
    const direct = ok(parse('WALLET_ADDRESS', value, network));
    expect(viaTicker.network).toBe(network);
    expect(viaTicker.fingerprint).toBe(direct.fingerprint);
    expect(viaTicker.canonical).toBe(direct.canonical);
    // A ticker is the network itself, not another EVM chain: no alias to report.
    expect(viaTicker.wallet?.evmAlias).toBeUndefined();
    expect(matchKeys(viaTicker).map((k) => k.via)).toEqual(matchKeys(direct).map((k) => k.via));
  });

  it('refuses a ticker for the wrong network as for the name, and an unknown one naming the tickers', () => {
    expect(refusal(parse('WALLET_ADDRESS', '1BpEi6DfDAUFd7GtittLSdBeYJvcoaVggu', 'eth'))).toMatchObject({ code: 'NETWORK_MISMATCH', field: 'network' });
    const unknown = refusal(parse('WALLET_ADDRESS', '1BpEi6DfDAUFd7GtittLSdBeYJvcoaVggu', 'doge'));
    expect(unknown).toMatchObject({ code: 'UNSUPPORTED_NETWORK', field: 'network' });
    expect(unknown.message).toContain('btc for bitcoin');
    expect(refusal(parse('WALLET_ADDRESS', '1BpEi6DfDAUFd7GtittLSdBeYJvcoaVggu', '__proto__'))).toMatchObject({ code: 'UNSUPPORTED_NETWORK' });
    expect(refusal(parse('WALLET_ADDRESS', '1BpEi6DfDAUFd7GtittLSdBeYJvcoaVggu', 'toString'))).toMatchObject({ code: 'UNSUPPORTED_NETWORK' });
  });
});

describe('a URL host is refanged once, in its raw text (review)', () => {
  it.each([
    ['https://example%28.%29com/a'],
    ['https://example%28dot%29com/a'],
    ['https://example.com\uff08.\uff09evil.com/'],
  ])('%s is not taken as a defanged URL: refused', (value) => {
    expect(parse('URL', value)).toMatchObject({ ok: false, code: 'INVALID_DOMAIN' });
  });
  it('a defanged URL still is', () => {
    expect(parse('URL', 'hxxps://example[.]com/a')).toMatchObject({ ok: true, canonical: 'https://example.com/a' });
  });
});
