"""Breaking the twin's head on command (the control channel's head_fault; docs/sim.md), in a
module of its own: imported only when a test or the web page asks, so the sim's heap pays for it
only then."""


def set_fault(head, paper, fault, group=0):
    """Break the head or mend it: "cable_off" (no dot heats, no current), "group" (the 64
    elements of driver group `group`, 0-5, dead), "upside_down" (the roll coated side down:
    blank at normal current), "none" (cable seated, every element alive, the right way up)."""
    if fault == "cable_off":
        head.cable = False
    elif fault == "group":
        if not 0 <= group < 6:
            raise ValueError("group %d: the head has groups 0 to 5" % group)
        head.dead[group * 8 : group * 8 + 8] = b"\xff" * 8
    elif fault == "upside_down":
        paper.upside_down = True
    elif fault == "none":
        head.cable = True
        head.dead[:] = bytes(len(head.dead))
        paper.upside_down = False
    else:
        raise ValueError("fault %r: cable_off, group, upside_down or none" % fault)
