"""Print the receipts of a journal image as JSON lines, read by the firmware's own Journal under
MicroPython: `micropython journal_dump.py IMAGE BLOCKS`. Mounting never writes; the image is
read through the sim's NOR model, as the sim reads its journal file."""

import json
import sys

from sim.flash import NorFlash
from tillroll.journal.journal import Journal

flash = NorFlash(sys.argv[1], int(sys.argv[2]))
journal = Journal(flash)
print(json.dumps({"mounted": journal.mount(), "problems": journal.status()}))
for number, time, state, first in journal.rows():
    info = journal.info(number)
    row = {"number": number, "time": time, "state": state, "first_line": first}
    row.update(reason=info[1], line=info[3])  # why it was interrupted (bits), the dot line
    print(json.dumps(row))
flash.close()
