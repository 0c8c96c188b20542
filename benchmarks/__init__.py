"""Benchmarks: telnyx_ai against the official telnyx SDK, openai-python and a hand-written floor."""
