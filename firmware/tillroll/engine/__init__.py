"""Print engine: the dot-line queue and what drives the head, the motor and the tear-off."""
