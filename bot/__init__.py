"""Daiban's outer layer: configuration, bootstrap, CLI, transports, outbox delivery."""
