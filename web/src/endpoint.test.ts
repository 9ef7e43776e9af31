import { describe, expect, it } from 'vitest';
import {
  API_KEY_PLACEHOLDER,
  addAllowEntry,
  allowEntryProblem,
  allowListProblem,
  cleanAllowList,
  cleanOrigins,
  curlFor,
  hasAllowEntry,
  originProblem,
  parseIPv6,
  rateLabel,
  rateProblem,
  refusedAddress,
  variablesProblem,
} from './endpoint';

describe('egress allow-list entries', () => {
  it('takes what the server takes', () => {
    for (const e of [
      '10.1.2.0/24',
      '10.1.2.3',
      '127.0.0.1:9000',
      'billing.internal',
      'billing.internal:8443',
      'Billing.Internal.',
      'fd00::1',
      '[fd00::1]',
      '[fd00::1]:8443',
      'fd00::/8',
      '::ffff:10.1.2.3',
      '0.0.0.0/0',
      '  10.0.0.0/8  ',
      'my_host',
      '[billing]:80',
      '1.2.3.4:080',
    ])
      expect(allowEntryProblem(e), e).toBe('');
  });
  it('says what is wrong, as the server does', () => {
    expect(allowEntryProblem('')).toMatch(/^empty/);
    expect(allowEntryProblem('http://x')).toBe('a URL; write only its host, with an optional :port');
    expect(allowEntryProblem('*.internal')).toMatch(/wildcards are not supported/);
    expect(allowEntryProblem('10.1.2.3/24')).toBe('has bits set past the prefix length; did you mean 10.1.2.0/24?');
    expect(allowEntryProblem('10.1.2.0/33')).toMatch(/not a CIDR/);
    expect(allowEntryProblem('10.1.2.0/24:80')).toMatch(/not a CIDR/);
    expect(allowEntryProblem('::ffff:10.1.2.0/120')).toMatch(/IPv4 form/);
    expect(allowEntryProblem('fd00::1/8')).toMatch(/bits set past the prefix/);
    expect(allowEntryProblem('host:0')).toBe('port "0" is not a number from 1 to 65535');
    expect(allowEntryProblem('host:65536')).toMatch(/port "65536"/);
    expect(allowEntryProblem('host:')).toMatch(/port ""/);
    expect(allowEntryProblem('fd00::1:8443x')).toMatch(/\[fd00::1\]:8443/);
    expect(allowEntryProblem('a b')).toMatch(/host name/);
    expect(allowEntryProblem('-x.internal')).toMatch(/host name/);
    expect(allowEntryProblem('127.1')).toMatch(/looks like an IPv4 address/);
    expect(allowEntryProblem('010.1.2.3')).toMatch(/looks like an IPv4 address/);
    expect(allowEntryProblem('0x7f.1')).toMatch(/looks like an IPv4 address/);
    expect(allowEntryProblem('fe80::1%eth0')).toMatch(/zone/);
    expect(allowEntryProblem('10.1.2.0/08')).toMatch(/not a CIDR/);
  });
  it('parses IPv6 forms', () => {
    expect(parseIPv6('::1')).toBe(1n);
    expect(parseIPv6('::')).toBe(0n);
    expect(parseIPv6('1:2:3:4:5:6:7:8')).not.toBeNull();
    expect(parseIPv6('::ffff:1.2.3.4')).toBe((0xffffn << 32n) | 0x01020304n);
    expect(parseIPv6('1:2:3:4:5:6:1.2.3.4')).not.toBeNull();
    expect(parseIPv6('1::2::3')).toBeNull();
    expect(parseIPv6('1:2:3:4:5:6:7')).toBeNull();
    expect(parseIPv6('12345::')).toBeNull();
  });
  it('checks a whole list, skipping empty rows', () => {
    expect(allowListProblem(['10.0.0.0/8', '', '  '])).toBe('');
    expect(allowListProblem(['10.0.0.0/8', 'http://x'])).toBe('Allowed address "http://x": a URL; write only its host, with an optional :port');
    expect(allowListProblem(Array(257).fill('10.0.0.1'))).toMatch(/at most 256/);
    expect(cleanAllowList([' a ', '', 'b'])).toEqual(['a', 'b']);
  });
  it('adds an address once', () => {
    expect(addAllowEntry(['10.0.0.1', ''], '127.0.0.1:9')).toEqual(['10.0.0.1', '127.0.0.1:9']);
    expect(addAllowEntry(['Billing.internal'], 'billing.internal')).toEqual(['Billing.internal']);
    expect(hasAllowEntry([' 127.0.0.1:9 '], '127.0.0.1:9')).toBe(true);
    expect(hasAllowEntry(['127.0.0.1'], '127.0.0.1:9')).toBe(false);
  });
});

describe('refused addresses in node errors', () => {
  it('finds the entry the error suggests', () => {
    const err =
      'GET /admin: the egress policy refuses 127.0.0.1:9 (a loopback address); to call it, add "127.0.0.1:9" to the egress allow-list of the deployment (or of the test run)';
    expect(refusedAddress(err)).toBe('127.0.0.1:9');
    expect(refusedAddress('GET /: the egress policy refuses [::1]:80 (a loopback address); to call it, add "[::1]:80" to the egress allow-list of the deployment')).toBe(
      '[::1]:80',
    );
    expect(refusedAddress('GET /: the egress policy refuses metadata.google.internal (a cloud metadata name); to call it, add "metadata.google.internal" to the egress allow-list')).toBe(
      'metadata.google.internal',
    );
  });
  it('ignores other errors', () => {
    expect(refusedAddress(undefined)).toBeNull();
    expect(refusedAddress('GET /x: dial tcp 127.0.0.1:9: connect: connection refused')).toBeNull();
  });
});

describe('variables and secrets', () => {
  it('takes identifiers given once', () => {
    expect(variablesProblem(['MODE', ''], ['API_KEY', '_x1'])).toBe('');
  });
  it('refuses bad names and a name given both ways', () => {
    expect(variablesProblem(['1X'], [])).toMatch(/^Variable name "1X" is not a valid name/);
    expect(variablesProblem([], ['API-KEY'])).toMatch(/^Secret name "API-KEY"/);
    expect(variablesProblem([], ['A'.repeat(65)])).toMatch(/not a valid name/);
    expect(variablesProblem(['API_KEY', 'X'], ['API_KEY'])).toBe('API_KEY is both a plain and a secret variable; give it once.');
  });
});

describe('CORS origins', () => {
  it('takes * and scheme://host[:port]', () => {
    for (const o of ['*', 'https://shop.example', 'http://localhost:5173', 'https://shop.example/', 'HTTPS://Shop.Example']) expect(originProblem(o), o).toBe('');
  });
  it('refuses the rest with the server message', () => {
    expect(originProblem('shop.example')).toBe('"shop.example" must be * or scheme://host[:port], like https://shop.example');
    for (const o of ['ftp://shop.example', 'https://shop.example/path', 'https://shop.example?x=1', 'https://u@shop.example', 'https://', 'https://a b']) expect(originProblem(o), o).not.toBe('');
  });
  it('sends them as the server stores them', () => {
    expect(cleanOrigins([' https://Shop.Example/ ', '', 'https://shop.example', '*'])).toEqual(['https://shop.example', '*']);
  });
});

describe('curl examples', () => {
  it('calls the URL with the method', () => {
    expect(curlFor('GET', 'http://gw/x', '{"a": 1}')).toBe("curl -i -X GET 'http://gw/x'");
  });
  it('sends a JSON body compacted', () => {
    expect(curlFor('POST', 'http://gw/x', '{\n  "a": 1\n}')).toBe(`curl -i -X POST 'http://gw/x' -H 'Content-Type: application/json' -d '{"a":1}'`);
    expect(curlFor('POST', 'http://gw/x', "it's")).toBe(`curl -i -X POST 'http://gw/x' -H 'Content-Type: application/json' -d 'it'\\''s'`);
  });
  it('sends the API key header, with the key or a placeholder', () => {
    expect(curlFor('GET', 'http://gw/x', '', 'flk_abc')).toBe(`curl -i -X GET 'http://gw/x' -H 'X-API-Key: flk_abc'`);
    expect(curlFor('POST', 'http://gw/x', '{}', API_KEY_PLACEHOLDER)).toBe(
      `curl -i -X POST 'http://gw/x' -H 'X-API-Key: <your-api-key>' -H 'Content-Type: application/json' -d '{}'`,
    );
  });
});

describe('key rates', () => {
  it('labels and checks them', () => {
    expect(rateLabel(0)).toBe('no limit');
    expect(rateLabel(1200)).toBe('1,200 / min');
    expect(rateProblem('')).toBe('');
    expect(rateProblem('60')).toBe('');
    expect(rateProblem('1000001')).not.toBe('');
    expect(rateProblem('-1')).not.toBe('');
    expect(rateProblem('1.5')).not.toBe('');
  });
});
