"""Engines behind small interfaces: a Speaker renders and plays the caller; a Listener returns the trainee's reply.

One module per engine or job, named for what it is (``pyttsx3_speaker``, ``whisper_recognizer``, ``mic_source``,
``vad``, ...). Each imports its library lazily and raises ``EngineMissing`` naming what to install.
"""
