"""How fast a tool must turn hostile arguments (a million characters, 10**5000, a huge exponent)
into an error. A hang guard, not a speed target: unguarded, such calls run for minutes, and the
bound is loose enough that a loaded CI machine cannot trip it."""

HANG_GUARD_S = 1.0
