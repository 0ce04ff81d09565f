// The RP2040 boot ROM: its image, and its function table (datasheet 2.8.3, "Bootrom Contents").
// The table pointer is a halfword at 0x14; each entry is a halfword code, two ASCII characters
// packed c1 | c2 << 8, and a halfword function address; a zero code ends the table.

import { readFileSync } from 'node:fs';

export const ROM_SIZE = 16 * 1024;

/** The ROM as the little-endian words rp2040js's loadBootrom takes. */
export function readBootrom(path) {
  const bytes = readFileSync(path);
  if (bytes.length !== ROM_SIZE) {
    throw new Error(`${path}: ${bytes.length} bytes, a boot ROM has ${ROM_SIZE}`);
  }
  return new Uint32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + ROM_SIZE));
}

function halfword(words, address) {
  return (words[address >>> 2] >>> ((address & 2) * 8)) & 0xffff;
}

/** The entry address (thumb bit clear) of the ROM function with the two-letter code. */
export function romFunction(words, code) {
  const wanted = code.charCodeAt(0) | (code.charCodeAt(1) << 8);
  for (let entry = halfword(words, 0x14); ; entry += 4) {
    const c = halfword(words, entry);
    if (c === 0) throw new Error(`the boot ROM has no function '${code}'`);
    if (c === wanted) return halfword(words, entry + 2) & ~1;
  }
}
