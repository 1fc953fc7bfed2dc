# -*- coding: utf-8 -*-
"""fn_openc2: OpenC2 commands from IBM SOAR incidents."""
