"""How much CPU a tool may spend turning hostile arguments (a million characters, 10**5000, a huge
exponent) into an error. A hang guard, not a speed target: unguarded, such calls run for minutes.
Measured as this process's CPU time, which other work on a loaded machine does not stretch."""

HANG_GUARD_S = 1.0
