// Camera URLs carry credentials (rtsp://user:pass@host/..., or ?user=..&password=.. on some brands).
// Everything vigil logs, reports or exports about a camera goes through this first.

const USERINFO = /([a-z][a-z0-9+.-]*:\/\/)[^\s/]+@/gi; // greedy: passwords may hold a raw @
const SECRET_PARAMS = /([?&](?:user(?:name)?|pass(?:word)?|pwd|token|auth|key)=)[^&\s]*/gi;

/** Redacts every URL credential inside a URL or free text (an ffmpeg stderr line that echoes the URL). */
export function redactCredentials(text: string): string {
  return text.replace(USERINFO, '$1***@').replace(SECRET_PARAMS, '$1***');
}
