"""Call-simulation trainer for 12368 court-hotline agents: scenarios, sessions, voices, history."""

__version__ = "0.1.0"
