"""Onboarding a consumer: discover its dialect (probe) and grade it against the spec.

Plain Python, no SOAR imports: the CLI (``fn-openc2 probe`` / ``grade``) and
the SOAR function "OpenC2: Check consumer" both call these."""
from __future__ import annotations
