// What a board's sensors show the chip when nothing is wrong: the levels the harness drives on
// the pins of each board's WIRING table (boards/<board>/board.py). A stock image has no board.

// A 12-bit ADC reading of `mv` on a 3.3 V reference.
const adc = (mv) => Math.round((mv / 3300) * 4095);

export const BOARDS = {
  rp2_pico: {
    inputs: {
      19: true, // FEED released (button to GND, pulled up)
      20: true, // paper under the paper sensor
      21: true, // more than the near-end length left on the roll
      22: false, // cover closed (switch to GND)
    },
    adc: {
      0: adc(3300 / 2), // thermistor at 25 degC: 30 kOhm NTC under a 30 kOhm pull-up
      1: adc((8500 * 10) / 57), // head supply 8.5 V through 47 kOhm over 10 kOhm
    },
  },
  none: { inputs: {}, adc: {} },
};
// The same board with FEED held down through power-on: maintenance mode (boards/rp2_pico/board.py).
BOARDS.rp2_pico_feed_held = {
  inputs: { ...BOARDS.rp2_pico.inputs, 19: false },
  adc: BOARDS.rp2_pico.adc,
};

/** Drive the board's sensor levels on a powered chip. */
export function applyBoard(mcu, board) {
  for (const [pin, level] of Object.entries(board.inputs)) mcu.gpio[Number(pin)].setInputValue(level);
  for (const [channel, value] of Object.entries(board.adc)) mcu.adc.channelValues[Number(channel)] = value;
}
