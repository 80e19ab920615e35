"""Engines behind small interfaces: a Speaker renders and plays the caller; a Listener returns the trainee's reply.

One adapter module per engine (``pyttsx3_speaker``, ``whisper_listener``, ...). Each imports its
library lazily and raises ``EngineMissing`` naming what to install.
"""
