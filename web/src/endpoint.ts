// Pure helpers for what deploys and test runs send, and for who may call a
// published endpoint: the egress allow-list of http.request nodes, the
// names of variables and secrets, CORS origins, and the curl examples the
// Publish and Access tabs show. The checks mirror the server's
// (engine/egress, server/deployments.go, server/access.go), so that a
// mistake shows beside the field before anything is sent; the server
// checks again and has the last word.

/** The server's bound on an allow-list (engine/egress.MaxEntries). */
export const MAX_ALLOW_ENTRIES = 256;

const IPV4_OCTET = '(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
const IPV4_RE = new RegExp(`^${IPV4_OCTET}(\\.${IPV4_OCTET}){3}$`);

/** An IPv4 address in dotted-decimal form (no leading zeros, as Go's netip), as a 32-bit number. */
export function parseIPv4(s: string): number | null {
  if (!IPV4_RE.test(s)) return null;
  return s.split('.').reduce((n, o) => n * 256 + Number(o), 0);
}

/** An IPv6 address (with an optional dotted IPv4 tail, no zone) as a 128-bit number. */
export function parseIPv6(s: string): bigint | null {
  if (!s.includes(':') || s.includes('%')) return null;
  let head = s;
  let tail: number[] = [];
  const lastColon = s.lastIndexOf(':');
  if (s.slice(lastColon + 1).includes('.')) {
    const v4 = parseIPv4(s.slice(lastColon + 1));
    if (v4 === null) return null;
    tail = [v4 >>> 16, v4 & 0xffff];
    head = s.slice(0, lastColon + 1);
    // "::1.2.3.4" keeps its "::"; "a:b:...:1.2.3.4" loses its last colon.
    if (head.endsWith(':') && !head.endsWith('::')) head = head.slice(0, -1);
  }
  const halves = head.split('::');
  if (halves.length > 2) return null;
  const groups = (part: string) => (part === '' ? [] : part.split(':'));
  const left = groups(halves[0]);
  const right = halves.length === 2 ? groups(halves[1]) : [];
  if (![...left, ...right].every((g) => /^[0-9a-fA-F]{1,4}$/.test(g))) return null;
  const given = left.length + right.length + tail.length;
  if (halves.length === 1 ? given !== 8 : given > 7) return null;
  const all = [...left.map((g) => parseInt(g, 16)), ...Array(8 - given).fill(0), ...right.map((g) => parseInt(g, 16)), ...tail];
  return all.reduce((n: bigint, g: number) => (n << 16n) | BigInt(g), 0n);
}

/** Whether an IPv6 address is an IPv4-mapped one (::ffff:a.b.c.d). */
function isMapped(v6: bigint): boolean {
  return v6 >> 32n === 0xffffn;
}

/** A host name as the server's egress policy accepts it (letters, digits, '-', '_', dots). */
function validName(s: string): boolean {
  if (!s || s.length > 253) return false;
  return s.split('.').every((l) => l.length > 0 && l.length <= 63 && !l.startsWith('-') && !l.endsWith('-') && /^[a-z0-9_-]+$/.test(l));
}

/** A name whose last label is a number (decimal or 0x hex): some resolvers read it as an IPv4 address. */
function numericName(name: string): boolean {
  const last = name.slice(name.lastIndexOf('.') + 1);
  if (last.startsWith('0x')) return /^[0-9a-f]*$/.test(last.slice(2));
  return /^\d+$/.test(last);
}

/** Splits "host:port" or "[v6]:port" as Go's net.SplitHostPort does; null when it is not of that form. */
function splitHostPort(s: string): { host: string; port: string } | null {
  if (s.startsWith('[')) {
    const end = s.indexOf(']');
    if (end < 0 || s[end + 1] !== ':') return null;
    const host = s.slice(1, end);
    const port = s.slice(end + 2);
    if (port.includes(':') || host.includes('[') || host.includes(']')) return null;
    return { host, port };
  }
  const i = s.lastIndexOf(':');
  if (i < 0 || s.indexOf(':') !== i) return null;
  return { host: s.slice(0, i), port: s.slice(i + 1) };
}

/**
 * What is wrong with one entry of an egress allow-list, or '' when the
 * server takes it: a CIDR (10.1.2.0/24), an IP address (10.1.2.3, fd00::1),
 * or a host name, each but a CIDR with an optional :port (127.0.0.1:9000,
 * [fd00::1]:8443, billing.internal:8443).
 */
export function allowEntryProblem(entry: string): string {
  const s = entry.trim();
  if (!s) return 'empty; write a CIDR, an IP address or a host name, with an optional :port';
  if (s.length > 300) return 'too long';
  if (s.includes('://')) return 'a URL; write only its host, with an optional :port';
  if (s.includes('*')) return 'wildcards are not supported; list each host, or the address range as a CIDR';
  if (s.includes('/')) {
    const [addr, bits, ...rest] = s.split('/');
    const cidr = 'not a CIDR such as 10.1.2.0/24 (a CIDR takes no port)';
    if (rest.length || !/^\d{1,3}$/.test(bits) || (bits.length > 1 && bits.startsWith('0'))) return cidr;
    const n = Number(bits);
    const v4 = parseIPv4(addr);
    if (v4 !== null) {
      if (n > 32) return cidr;
      const host = n === 32 ? 0 : v4 % 2 ** (32 - n);
      return host ? `has bits set past the prefix length; did you mean ${maskedV4(v4, n)}/${n}?` : '';
    }
    const v6 = parseIPv6(addr);
    if (v6 === null || n > 128) return cidr;
    if (isMapped(v6)) return 'write IPv4 ranges in IPv4 form, such as 10.1.2.0/24';
    const hostBits = v6 & ((1n << BigInt(128 - n)) - 1n);
    return hostBits ? 'has bits set past the prefix length' : '';
  }
  const bare = s.length > 2 && s.startsWith('[') && s.endsWith(']') ? s.slice(1, -1) : s;
  if (parseIPv4(bare) !== null || parseIPv6(bare) !== null) return '';
  if (bare.includes('%')) return 'an IPv6 zone is not supported';
  let host = s;
  const hp = splitHostPort(s);
  if (hp) {
    const port = /^\d{1,5}$/.test(hp.port) ? Number(hp.port) : NaN;
    if (!(port >= 1 && port <= 65535)) return `port "${hp.port}" is not a number from 1 to 65535`;
    host = hp.host;
  } else if (s.includes(':')) {
    return 'not a CIDR, an IP address or a host name, with an optional :port (write IPv6 addresses with a port as [fd00::1]:8443)';
  }
  if (parseIPv4(host) !== null || parseIPv6(host) !== null) return '';
  if (host.includes('%')) return 'an IPv6 zone is not supported';
  const name = host.toLowerCase().replace(/\.$/, '');
  if (!validName(name)) return "not a CIDR, an IP address or a host name (letters, digits, '-', '_' and dots), with an optional :port";
  if (numericName(name)) return 'looks like an IPv4 address but is not one in dotted-decimal form';
  return '';
}

function maskedV4(v4: number, bits: number): string {
  const m = bits === 0 ? 0 : v4 - (v4 % 2 ** (32 - bits));
  return [24, 16, 8, 0].map((sh) => Math.floor(m / 2 ** sh) % 256).join('.');
}

/** The entries to send: trimmed, without empty rows. */
export function cleanAllowList(entries: string[]): string[] {
  return entries.map((e) => e.trim()).filter(Boolean);
}

/** What keeps an allow-list from being sent (naming the entry), or ''. */
export function allowListProblem(entries: string[]): string {
  const list = cleanAllowList(entries);
  if (list.length > MAX_ALLOW_ENTRIES) return `${list.length} allowed addresses; at most ${MAX_ALLOW_ENTRIES}`;
  for (const e of list) {
    const p = allowEntryProblem(e);
    if (p) return `Allowed address "${e}": ${p}`;
  }
  return '';
}

/** Whether the list already has entry (compared as the server stores them: trimmed, lower case). */
export function hasAllowEntry(entries: string[], entry: string): boolean {
  const k = entry.trim().toLowerCase();
  return entries.some((e) => e.trim().toLowerCase() === k);
}

/** The list with entry added at its end, unless it is there already. */
export function addAllowEntry(entries: string[], entry: string): string[] {
  const list = entries.filter((e) => e.trim());
  return hasAllowEntry(list, entry) ? list : [...list, entry.trim()];
}

/**
 * The address an http.request error says the egress policy refused, as the
 * allow-list entry that would allow it ("127.0.0.1:9"), or null when the
 * error is something else. The runtime writes: `the egress policy refuses
 * 127.0.0.1:9 (a loopback address); to call it, add "127.0.0.1:9" to the
 * egress allow-list of the deployment (or of the test run)`.
 */
export function refusedAddress(error: string | null | undefined): string | null {
  if (!error || !error.includes('egress policy refuses')) return null;
  const quoted = /egress policy refuses [^;]*; to call it, add "((?:[^"\\]|\\.)+)" to the egress allow-list/.exec(error);
  if (quoted) return quoted[1].replace(/\\(.)/g, '$1');
  const bare = /egress policy refuses (\S+)/.exec(error);
  return bare ? bare[1] : null;
}

/** Variable names the server takes: an identifier of at most 64, read as env.NAME. */
export const VAR_NAME_RE = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

/**
 * What is wrong with the names of plain and secret variables, or '': names
 * that are not identifiers, and a name given both ways (which would
 * env.NAME be?). Rows without a name are not sent and not checked.
 */
export function variablesProblem(plain: string[], secret: string[]): string {
  for (const [what, names] of [
    ['Variable', plain],
    ['Secret', secret],
  ] as const) {
    for (const n of names.map((x) => x.trim()).filter(Boolean))
      if (!VAR_NAME_RE.test(n)) return `${what} name "${n}" is not a valid name: letters, digits and _, not starting with a digit, at most 64.`;
  }
  const plainSet = new Set(plain.map((x) => x.trim()).filter(Boolean));
  const both = [...new Set(secret.map((x) => x.trim()).filter((n) => plainSet.has(n)))];
  if (both.length) return `${both.join(', ')} ${both.length === 1 ? 'is' : 'are'} both a plain and a secret variable; give ${both.length === 1 ? 'it' : 'each'} once.`;
  return '';
}

/** An origin as the server stores it: trimmed, without trailing slashes, lower case. */
export function normalizeOrigin(o: string): string {
  return o.trim().replace(/\/+$/, '').toLowerCase();
}

/** What is wrong with a CORS origin, or '': it must be * or scheme://host[:port], like https://shop.example. */
export function originProblem(o: string): string {
  const s = o.trim().replace(/\/+$/, '');
  if (s === '*') return '';
  const bad = `"${s}" must be * or scheme://host[:port], like https://shop.example`;
  const m = /^(https?):\/\/([^/?#@\s]+)$/i.exec(s);
  if (!m) return bad;
  try {
    const u = new URL(s);
    if (!u.hostname) return bad;
  } catch {
    return bad;
  }
  return '';
}

/** The origins to send: normalized, without empty rows or repeats. */
export function cleanOrigins(origins: string[]): string[] {
  return [...new Set(origins.map(normalizeOrigin).filter(Boolean))];
}

/** Shown in examples where the caller's API key goes. */
export const API_KEY_PLACEHOLDER = '<your-api-key>';

export function shellQuote(s: string) {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * A curl command calling the endpoint: method, URL, the X-API-Key header
 * when apiKey is given (a key, or API_KEY_PLACEHOLDER when the endpoint
 * requires one), and a JSON body (compacted) for methods that carry one.
 */
export function curlFor(method: string, url: string, body?: string, apiKey?: string): string {
  let c = `curl -i -X ${method} ${shellQuote(url)}`;
  if (apiKey) c += ` -H ${shellQuote(`X-API-Key: ${apiKey}`)}`;
  if (body && body.trim() && method !== 'GET' && method !== 'HEAD') {
    let compact = body.trim();
    try {
      compact = JSON.stringify(JSON.parse(compact));
    } catch {
      /* not JSON: send as written */
    }
    c += ` -H 'Content-Type: application/json' -d ${shellQuote(compact)}`;
  }
  return c;
}

/** A key's rate for the keys table: "120 / min", or "no limit" for 0. */
export function rateLabel(perMinute: number): string {
  return perMinute > 0 ? `${perMinute.toLocaleString('en-US')} / min` : 'no limit';
}

/** What is wrong with a rate typed in the new-key form ('' is 0, no limit), or ''. */
export function rateProblem(text: string): string {
  const t = text.trim();
  if (t === '') return '';
  if (!/^\d+$/.test(t) || Number(t) > 1_000_000) return 'A whole number from 0 (no limit) to 1000000.';
  return '';
}
