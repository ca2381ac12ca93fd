"""Pure domain rules of Daiban: no I/O, no clock, no framework."""
