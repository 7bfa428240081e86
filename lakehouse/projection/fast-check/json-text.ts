/**
 * How many object keys a JSON text spells out, duplicates included (-1 if a string never ends).
 * For text JSON.parse accepted: outside strings a quote always opens one, and a string followed
 * by a colon is a key.
 */
export function keysInText(text: string): number {
  let keys = 0;
  let open = text.indexOf('"');
  while (open >= 0) {
    let close = text.indexOf('"', open + 1);
    // A quote after an odd number of backslashes is part of the string.
    while (close >= 0 && backslashesBefore(text, close) % 2 === 1)
      close = text.indexOf('"', close + 1);
    if (close < 0) return -1;
    let next = close + 1;
    let c = text.charCodeAt(next);
    while (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) c = text.charCodeAt(++next);
    if (c === 0x3a) keys += 1;
    open = text.indexOf('"', next);
  }
  return keys;
}

function backslashesBefore(text: string, at: number): number {
  let n = 0;
  while (text.charCodeAt(at - 1 - n) === 0x5c) n += 1;
  return n;
}
