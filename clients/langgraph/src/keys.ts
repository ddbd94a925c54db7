// keys.ts — how LangGraph's identifiers become agentkv keys.
//
// A thread id, a checkpoint namespace, a store namespace label or a store key
// may be any string, including "" or "..", neither of which is a valid key
// segment (SPEC.md §1). Each one becomes one segment: "=" followed by the
// string with every byte outside [A-Za-z0-9_.:-] written as %XX of its UTF-8
// encoding. The "=" keeps empty and dot-only strings valid; the escaping
// keeps "/" and control characters out. The mapping is one-to-one, so
// distinct identifiers never share a key, and readable for the usual ids
// (uuids, "thread-1"). A key longer than 255 bytes is refused by the server
// with invalid_argument.

const SAFE = /^[A-Za-z0-9_.:-]$/;

export function seg(s: string): string {
  let out = '=';
  for (const ch of s) {
    if (SAFE.test(ch)) {
      out += ch;
    } else {
      for (const b of new TextEncoder().encode(ch)) out += `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
    }
  }
  return out;
}

export function unseg(s: string): string {
  if (!s.startsWith('=')) throw new Error(`not an encoded key segment: ${s}`);
  return decodeURIComponent(s.slice(1));
}

export function key(...parts: string[]): string {
  return parts.join('/');
}

/** Base64 of bytes (btoa/atob: Node ≥ 16 and browsers). */
export function b64(u: Uint8Array): string {
  let bin = '';
  for (let i = 0; i < u.length; i += 0x8000) bin += String.fromCharCode(...u.subarray(i, i + 0x8000));
  return btoa(bin);
}

export function unb64(s: string): Uint8Array {
  const bin = atob(s);
  const u = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) u[i] = bin.charCodeAt(i);
  return u;
}
