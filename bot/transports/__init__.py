"""Messenger adapters (通道). The only package that knows a messenger exists."""
