"""Fakes of the outside world (messenger APIs) for end-to-end tests and benchmarks."""
