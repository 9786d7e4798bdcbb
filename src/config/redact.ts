// Camera URLs carry credentials: rtsp://user:pass@host/..., ?user=..&password=.. on some brands, an SRT
// passphrase, an API key or a login in the query. A fixed list of parameter names always misses the next
// brand's, so URLs are parsed instead: userinfo is hidden, and every query (or fragment, or name=value path)
// value is hidden unless its parameter is on a short list of names known to say which stream, never who.
// Everything vigil logs, reports or exports about a camera goes through this first. When in doubt it hides
// more: an operator can read a URL in the config file, but a leaked password cannot be taken back.

/**
 * Parameters whose values select a stream or a transport and cannot carry a credential (Dahua
 * ?channel=1&subtype=0&unicast=true&proto=Onvif, Hikvision ?transportmode=unicast&profile=Profile_1, Axis
 * ?videocodec=h264&resolution=640x480&fps=15, Foscam-style ?ch=2, SRT ?latency=200, ffmpeg's own
 * tcp://...?timeout=0 in its error lines). Left out on purpose: streamid (SRT access control puts user and
 * password in it), key, token, name, user and any generic name such as mode or id, whose meaning depends
 * on the brand.
 */
export const HARMLESS_PARAMS: ReadonlySet<string> = new Set([
  'channel', 'ch', 'subtype', 'stream', 'profile', 'unicast', 'proto', 'transport', 'transportmode', 'tcp',
  'resolution', 'fps', 'codec', 'videocodec', 'timeout', 'latency',
]);

// A harmless parameter's value is shown only when it is a plain word or number: one holding URL syntax
// (?stream=rtsp:user=...) may be another URL, with credentials of its own.
// The trailing colon or question mark is ffmpeg's ("URL: message", "Did you mean file:URL?").
const PLAIN_VALUE = /^[A-Za-z0-9_.,+-]*[:?]?$/;

// Where a URL begins: any scheme followed by slashes (rtsp://, the one-slash typo rtsp:/, rtsp:\\), or one of
// the schemes vigil and ffmpeg use followed by a typo instead (rtsp:user:pass@, rtsp//, rtsp;//, file:srt://),
// even glued to the word before it (url=xrtsp;//...): a false start only hides more.
const URL_START = /(?:rtsps?|rtmp[st]?s?|https?|srt|udp|tcp|tls|file|ftp)(?:[:;.][/\\]*|[/\\]+)|(?<![a-z0-9+.-])[a-z][a-z0-9+.-]*:[/\\]+/gi;

// ffmpeg ends a line about a URL with ": <strerror>". Only these endings are kept readable after a hidden
// value that runs to the end of its word: anything else there may be the rest of a value with a space in it
// (an SRT passphrase may hold spaces, and ffmpeg passes it on as written).
const FFMPEG_ENDING = new RegExp(
  '^(?:' +
    [
      'Connection refused', 'Connection timed out', 'Connection reset by peer', 'Operation timed out',
      'Protocol not found', 'Input/output error', 'No such file or directory', 'Invalid data found when processing input',
      'Network is unreachable', 'No route to host', 'Host is unreachable', 'Immediate exit requested', 'End of file',
      'Invalid argument', 'Permission denied', 'Operation not permitted', 'Unknown error occurred',
      'Resource temporarily unavailable', 'Cannot assign requested address', 'Broken pipe', 'Stream not found',
      'Option not found', 'Server returned [0-9X]{3}[A-Za-z0-9 ,(){}]*', 'Error number -?[0-9]+ occurred',
    ].join('|') +
    ')\\s*$',
);

/** Redacts every URL credential inside a URL or free text (an ffmpeg stderr line that echoes the URL). */
export function redactCredentials(text: string): string {
  return redact(text, false);
}

/**
 * Redacts one URL (or a file path standing where a URL may be) as a whole: whitespace inside it is part
 * of it, not the end of it. For config values, where the whole string is known to be the camera's URL.
 */
export function redactUrl(url: string): string {
  return redact(url, true);
}

function redact(text: string, whole: boolean): string {
  if (!/[@?#=&;]/.test(text)) return text;
  const hidden = new Uint8Array(text.length);
  const hide = (from: number, to: number) => hidden.fill(1, from, to);
  const space = /\s/g;
  const wordEnd = (i: number) => {
    if (whole) return text.length;
    space.lastIndex = i;
    return space.exec(text)?.index ?? text.length;
  };
  // Scans run to the end of their word; a later URL start inside a scanned stretch adds nothing (the
  // earlier scan hid at least as much there), and skipping it keeps hostile lines linear.
  let scanned = { from: 0, to: 0 };
  const tail = ffmpegTail(text);
  const rest = (from: number, mode: () => Mode) => {
    if (from >= scanned.from && from < scanned.to) return;
    scanned = { from, to: wordEnd(from) };
    hideParameters(text, from, scanned.to, mode(), tail, whole, hide);
  };
  const starts = Array.from(text.matchAll(URL_START), (m) => m.index + m[0].length);
  const firstUrl = starts[0] ?? Infinity;
  // A password may hold spaces, '@', ':' or '/': userinfo runs from after the scheme to the text's last
  // '@', even past spaces. A later '@' that was not userinfo (a mail address) only costs readability.
  const lastAt = text.lastIndexOf('@');
  if (lastAt >= firstUrl) {
    hide(firstUrl, lastAt);
    rest(lastAt + 1, () => modeAfter(text.slice(firstUrl, lastAt)));
  }
  for (const start of starts) if (start > lastAt) rest(start, () => 'path');
  // user:pass@host with no scheme the pattern knows before it: hide the word up to its last '@'.
  for (let at = text.indexOf('@'); at >= 0 && at < firstUrl; ) {
    let from = at;
    while (from > 0 && (whole || !/\s/.test(text[from - 1]!))) from--;
    const to = wordEnd(at);
    const last = text.lastIndexOf('@', Math.min(to, firstUrl) - 1);
    if (text[last] === '@') {
      hide(from, last);
      rest(last + 1, () => modeAfter(text.slice(from, last)));
    }
    at = text.indexOf('@', to);
  }
  // A query with no scheme before it (GET /video.cgi?user=admin&pwd=..., cam.local/snap?key=...): its values.
  let next = 0;
  for (const word of whole ? [{ index: 0, 0: text }] : text.matchAll(/\S+/g)) {
    const end = word.index + word[0].length;
    while (next < starts.length && starts[next]! < word.index) next++;
    if (next < starts.length && starts[next]! <= end) continue;
    const query = word[0].search(/[?&]/);
    if (query >= 0 && word[0].indexOf('=', query) > 0) hideParameters(text, word.index + query + 1, end, 'params', tail, whole, hide);
  }
  let out = '';
  for (let i = 0; i < text.length; i++) {
    if (!hidden[i]) out += text[i];
    else if (i === 0 || !hidden[i - 1]) out += '***';
  }
  return out;
}

/**
 * How text in a URL reads: as host and path; as query parameters; as the rest of a query value that held an
 * '@' (?password=p@ss&channel=1: hidden up to the next '&', then parameters); or of a fragment (all hidden).
 */
type Mode = 'path' | 'params' | 'value' | 'fragment';

/** A '?' or '#' before the '@' is in a password, or the '@' is in a query value or fragment: assume the latter. */
function modeAfter(userinfo: string): Mode {
  return userinfo.includes('#') ? 'fragment' : userinfo.includes('?') ? 'value' : 'path';
}

/** Where the text's final ": <ffmpeg message>" begins, if it ends with one. */
function ffmpegTail(text: string): number | undefined {
  const separator = text.lastIndexOf(': ');
  return separator >= 0 && FFMPEG_ENDING.test(text.slice(separator + 2)) ? separator : undefined;
}

/**
 * Hides parameter values in text[from, end) (a URL after its userinfo): in the query every value and every
 * bare word, in the path every name=value from its '=' on (some NVRs put user=admin_password=... in the
 * path), except the harmless parameters' plain values; and the whole fragment.
 */
function hideParameters(
  text: string, from: number, end: number, mode: Mode, tail: number | undefined, whole: boolean,
  hide: (from: number, to: number) => void,
): void {
  const hideValue = (start: number, stop: number) => {
    if (whole || stop < end || end >= text.length) return hide(start, stop);
    // The value runs to the end of its word (even an empty one) and more text follows: it may go on past
    // a space.
    hide(start, tail !== undefined && tail >= start ? tail : text.length);
  };
  let query = mode !== 'path';
  let i = from;
  if (mode === 'value' || mode === 'fragment') {
    while (i < end && (mode === 'fragment' || (text[i] !== '&' && text[i] !== '#'))) i++;
    // Even when nothing of it is left in this word: the value may go on past a space.
    hideValue(from, text[i] === '#' && i < end ? end : i);
    i++;
  }
  while (i < end) {
    let j = i;
    // Only '&' ends a query value (as in ffmpeg and every URL parser); '?', ';' and '/' are data there.
    while (j < end && !(query ? '&#' : '/&;?#').includes(text[j]!)) j++;
    const eq = text.slice(i, j).indexOf('=') + i;
    if (eq >= i) {
      const shown = HARMLESS_PARAMS.has(text.slice(i, eq).toLowerCase()) && PLAIN_VALUE.test(text.slice(eq + 1, j));
      if (!shown) {
        if (!query) return hideValue(eq + 1, end);
        hideValue(eq + 1, j);
      }
    } else if (query && !HARMLESS_PARAMS.has(text.slice(i, j).toLowerCase())) {
      hideValue(i, j);
    }
    if (text[j] === '#' && j < end) return hideValue(j + 1, end);
    if (text[j] === '?' && j < end) query = true;
    i = j + 1;
  }
}

// Config keys whose values are credentials in any section, today's (api.tokens[].token) or a later one's
// (bus.curve.secret_key): shown as *** by `vigil config check`. Public keys and names stay readable.
const SECRET_KEY = /^(token|password|passphrase|secret|secret_key|private_key)$|_(secret|password|token)$/i;

/** A copy of a config for showing: camera URLs redacted, every credential field replaced by ***. */
/** Fields holding CURVE public keys (bus.curve.public_key, bus.curve.clients[]). */
const PUBLIC_KEYS = new Set(['public_key', 'clients']);

export function redactConfig<T>(config: T): T {
  const walk = (node: unknown, key: string | undefined): unknown => {
    if (Array.isArray(node)) return node.map((item) => walk(item, key));
    if (node !== null && typeof node === 'object') return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, walk(v, k)]));
    if (typeof node !== 'string') return node;
    if (key !== undefined && SECRET_KEY.test(key)) return '***';
    // CURVE public keys are meant to be shown (subscribers need them) and Z85 has '@' and ':', which the
    // free-text redactor would take for credentials.
    if (key !== undefined && PUBLIC_KEYS.has(key)) return node;
    return key === 'url' ? redactUrl(node) : redactCredentials(node);
  };
  return walk(config, undefined) as T;
}
