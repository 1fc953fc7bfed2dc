"""``fn-openc2 demo``: the app's main job end to end on this machine.

scenario (the incident, steps and expectations, data only), stack (PKI,
consumers, broker, app.config), run (orchestration), checks (verdicts),
render (terminal output).
"""
from __future__ import annotations
