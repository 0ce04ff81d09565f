// The free heap of the MicroPython image running on the chip, as `gc.mem_free()` counts it
// (free blocks in the GC's allocation table, 16 bytes each), seen from outside: no code on the
// chip, so nothing it measures moves its heap or its cycles.
//
// Given the image's symbols (gc_alloc, gc_realloc, gc_free, gc_collect_start, mp_state_ctx and
// its size, __GcHeapStart, __GcHeapEnd: `arm-none-eabi-nm` on its ELF), the probe counts the
// free blocks each time the core branches to one of those functions, and keeps the lowest
// count: on entry to gc_alloc that count less the blocks asked for (what is free just after
// it, if it fits without a collection), on entry to the others the count as it is. The heap
// only shrinks through gc_alloc and gc_realloc, so the lowest count is the lowest free heap.
// Garbage counts as used until a collection frees it, as in gc.mem_free(): the probe also
// keeps the lowest count seen first after each collection (what the live objects leave), the
// bytes gc_alloc handed out and the bytes gc_free gave back at once (MicroPython frees a call's
// frame on the heap when the call returns), so that what is left is the garbage, and the
// collections.
// The allocation table is found in mp_state_ctx by its start, which is __GcHeapStart.

const BYTES_PER_BLOCK = 16;
const RAM = 0x20000000;

// How many of a table byte's four 2-bit entries are AT_FREE (0).
const FREE_IN = Uint8Array.from({ length: 256 }, (_, b) => {
  let n = 0;
  for (let k = 0; k < 8; k += 2) if (!((b >> k) & 3)) n++;
  return n;
});

export class GcProbe {
  /** symbols: {gc_alloc, gc_realloc, gc_free, gc_collect_start, mp_state_ctx,
   * mp_state_ctx_size, heap_start, heap_end} (addresses as numbers). */
  constructor(symbols) {
    for (const key of ['gc_alloc', 'gc_realloc', 'gc_free', 'gc_collect_start', 'mp_state_ctx']) {
      if (typeof symbols[key] !== 'number') throw new Error(`gc probe: no address for ${key}`);
    }
    this.sym = symbols;
    this.mcu = null;
    this.table = null;
    this.pool = null;
    this.reset();
  }

  /** A new power-on: the heap is laid out again by gc_init. */
  attach(mcu) {
    this.mcu = mcu;
    this.table = null;
    this.pool = null;
    this.reset();
  }

  /** The lowest and the counts start again from now. */
  reset() {
    this.low = this.mcu ? this.free() : null;
    this.lowAfterCollection = null;
    this.collected = false; // a collection began since the last sample
    this.allocs = 0;
    this.allocated = 0;
    this.freed = 0;
    this.collections = 0;
  }

  /** The core branched (BL/BLX) to `pc`. */
  call(pc, core) {
    const s = this.sym;
    if (pc === s.gc_alloc) {
      const taking = Math.ceil(core.registers[0] / BYTES_PER_BLOCK) * BYTES_PER_BLOCK;
      this.allocs++;
      this.allocated += taking;
      this._sample(taking);
    } else if (pc === s.gc_free) {
      this.freed += this._size(core.registers[0]);
      this._sample(0);
    } else if (pc === s.gc_realloc) {
      this._sample(0);
    } else if (pc === s.gc_collect_start) {
      this._sample(0);
      this.collections++;
      this.collected = true;
    }
  }

  _sample(taking) {
    const free = this.free();
    if (free === null) return;
    if (this.collected) {
      this.collected = false;
      if (this.lowAfterCollection === null || free < this.lowAfterCollection) {
        this.lowAfterCollection = free;
      }
    }
    const after = taking <= free ? free - taking : free;
    if (this.low === null || after < this.low) this.low = after;
  }

  /** The bytes of the allocation at `ptr` (its head block and the tail blocks after it). */
  _size(ptr) {
    const t = this.table;
    if (!t || ptr < t.poolStart || ptr >= t.poolStart + this.pool) return 0;
    const ram = this.mcu.sram;
    const kind = (block) => (ram[t.start + (block >> 2)] >> ((block & 3) * 2)) & 3;
    let block = (ptr - t.poolStart) / BYTES_PER_BLOCK;
    if (kind(block) !== 1) return 0; // AT_HEAD
    const last = (t.end - t.start) * 4;
    let n = 1;
    while (++block < last && kind(block) === 2) n++; // AT_TAIL
    return n * BYTES_PER_BLOCK;
  }

  /** Free heap in bytes now, or null before the heap is set up. */
  free() {
    const t = this.table ?? this._findTable();
    if (!t) return null;
    const ram = this.mcu.sram;
    let blocks = 0;
    for (let i = t.start; i < t.end; i++) blocks += FREE_IN[ram[i]];
    return blocks * BYTES_PER_BLOCK;
  }

  /** The allocation table (and pool) as gc_init left them in mp_state_ctx's heap area:
   * its start word, then its length in bytes, and a little further the pool's start and end. */
  _findTable() {
    const { mp_state_ctx: ctx, mp_state_ctx_size: size, heap_start: start, heap_end: end } =
      this.sym;
    const view = new DataView(this.mcu.sram.buffer);
    const word = (i) => view.getUint32(ctx - RAM + 4 * i, true);
    const poolEnd = end & ~(BYTES_PER_BLOCK - 1);
    for (let i = 0; i + 1 < size / 4; i++) {
      if (word(i) !== start) continue;
      const length = word(i + 1);
      for (let j = i + 3; j < Math.min(i + 8, size / 4); j++) {
        const poolStart = word(j - 1);
        if (word(j) === poolEnd && poolEnd - poolStart === length * 4 * BYTES_PER_BLOCK) {
          this.table = { start: start - RAM, end: start - RAM + length, poolStart };
          this.pool = poolEnd - poolStart;
          return this.table;
        }
      }
    }
    return null;
  }

  stats() {
    return {
      free: this.free(),
      low: this.low,
      low_after_collection: this.lowAfterCollection,
      pool: this.pool ?? null,
      allocs: this.allocs,
      allocated: this.allocated,
      freed: this.freed,
      collections: this.collections,
    };
  }
}
