// UF2 images (Microsoft's uf2 format): 512-byte blocks, each carrying up to 476 bytes for one
// flash address. Only the blocks meant for the RP2040's flash are taken.

const MAGIC_START0 = 0x0a324655; // "UF2\n"
const MAGIC_START1 = 0x9e5d5157;
const MAGIC_END = 0x0ab16f30;
const FLAG_NOT_MAIN_FLASH = 0x1;
const FLAG_FAMILY_ID = 0x2000;
const RP2040_FAMILY = 0xe48bff56;
const XIP_BASE = 0x10000000;

/** Yields {offset, data}: a flash offset and the bytes to place there. */
export function* uf2Blocks(image) {
  if (image.length % 512) {
    throw new Error(`not a UF2 image: ${image.length} bytes is not a whole number of blocks`);
  }
  const view = new DataView(image.buffer, image.byteOffset, image.length);
  for (let at = 0; at < image.length; at += 512) {
    const word = (i) => view.getUint32(at + i, true);
    if (word(0) !== MAGIC_START0 || word(4) !== MAGIC_START1 || word(508) !== MAGIC_END) {
      throw new Error(`not a UF2 image: bad magic in block ${at / 512}`);
    }
    const flags = word(8);
    if (flags & FLAG_NOT_MAIN_FLASH) continue;
    if (flags & FLAG_FAMILY_ID && word(28) !== RP2040_FAMILY) continue;
    const address = word(12);
    const size = word(16);
    if (address < XIP_BASE || size > 476) {
      throw new Error(`UF2 block ${at / 512}: ${size} bytes at 0x${address.toString(16)}`);
    }
    yield { offset: address - XIP_BASE, data: image.subarray(at + 32, at + 32 + size) };
  }
}
