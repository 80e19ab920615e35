"""The bottom layer: the tool's errors, safe YAML with line numbers, did-you-mean suggestions.

Layers import downward only: core <- scoring <- simulator <- cli (tests/test_layers.py checks it).
"""
