// A USB mass-storage host for one bulk-only-transport interface (USB Mass Storage Class,
// Bulk-Only Transport 1.0): SCSI WRITE(10) of 512-byte sectors, as a PC copying a UF2 file onto
// the RP2040 boot ROM's RPI-RP2 drive writes the file's blocks. The boot ROM takes each sector
// that is a UF2 block for its flash wherever it lands, and starts the image once it has them all.

const CBW_SIGNATURE = 0x43425355; // "USBC"
const CSW_SIGNATURE = 0x53425355; // "USBS"
const SECTOR = 512;
const WRITE_10 = 0x2a;
const FIRST_LBA = 0x1000; // past the drive's FAT and root directory, where a file's data goes
const ANSWER_MS = 30e3; // wall time for a sector's status: a chip switched off never answers

export class MassStorage {
  /** stream: the interface's UsbStream (usb_host.mjs); wake(): the chip has bytes to take. */
  constructor(stream, wake = () => {}) {
    this.stream = stream;
    this.wake = wake;
    this.tag = 0;
    this.command = null; // {tag, resolve, reject}
    this.status = [];
    stream.onData = (bytes) => this._in(bytes);
  }

  /** Writes the UF2 image's blocks, one a sector, in order; progress(done, total) after each.
   * Resolves with the number of sectors written; rejects if the drive fails a write. */
  async copy(image, progress = () => {}) {
    if (image.length % SECTOR) throw new Error(`not a UF2 image: ${image.length} bytes`);
    const total = image.length / SECTOR;
    for (let n = 0; n < total; n++) {
      const sector = image.subarray(n * SECTOR, (n + 1) * SECTOR);
      const status = await this.write10(FIRST_LBA + n, sector);
      if (status !== 0) throw new Error(`the drive failed sector ${n}'s write (status ${status})`);
      progress(n + 1, total);
    }
    return total;
  }

  /** One WRITE(10) of a sector: the command, its data once the command is taken, then the
   * device's status (0: passed). */
  write10(lba, sector) {
    if (this.command) throw new Error('a command is already under way');
    const tag = ++this.tag >>> 0;
    const cbw = new Uint8Array(31);
    const view = new DataView(cbw.buffer);
    view.setUint32(0, CBW_SIGNATURE, true);
    view.setUint32(4, tag, true);
    view.setUint32(8, SECTOR, true); // data transfer length
    cbw[12] = 0x00; // data out
    cbw[13] = 0; // LUN
    cbw[14] = 10; // command block length
    cbw[15] = WRITE_10;
    view.setUint32(17, lba, false);
    view.setUint16(22, 1, false); // one block
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.command = null;
        reject(new Error(`the drive did not answer the write of sector ${lba - FIRST_LBA}`));
      }, ANSWER_MS);
      this.command = {
        tag,
        resolve: (status) => (clearTimeout(timer), resolve(status)),
        reject: (error) => (clearTimeout(timer), reject(error)),
      };
      this.status = [];
      // The command is a packet of its own: its data goes once the device has taken it.
      this.stream.onDrain = () => {
        this.stream.onDrain = null;
        this.stream.write(sector);
      };
      this.stream.write(cbw);
      this.wake();
    });
  }

  _in(bytes) {
    if (!this.command) return;
    this.status.push(...bytes);
    if (this.status.length < 13) return;
    const csw = Uint8Array.from(this.status.splice(0, 13));
    const view = new DataView(csw.buffer);
    const { tag, resolve, reject } = this.command;
    this.command = null;
    if (view.getUint32(0, true) !== CSW_SIGNATURE || view.getUint32(4, true) !== tag) {
      reject(new Error(`bad command status ${Buffer.from(csw).toString('hex')}`));
    } else {
      resolve(csw[12]);
    }
  }
}
