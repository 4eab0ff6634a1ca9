"""Loopback fakes of the vendor APIs, served by ``fakes.server.serve_in_thread``."""
