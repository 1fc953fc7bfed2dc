# -*- coding: utf-8 -*-
# Generated with resilient-sdk v51.0.9.1, then written against a real consumer.
"""Function 'openc2_query_features' in the real resilient-circuits runtime: the
reference consumer answers over HTTPS with mutual TLS and the openc2_consumers
table is refreshed (one row per consumer, updated rather than duplicated)."""
from __future__ import annotations



from tests.soar import harness
from tests.soar.harness import INCIDENT_ID, call, fw, soar  # noqa: F401  (fixtures used by name)

COLUMNS = {"consumer", "reachable", "versions", "profiles", "pairs", "rate_limit", "queried_at"}

FUNCTION_NAME = "openc2_query_features"

config_data = ""            # written by the fw fixture before circuits_app starts
resilient_mock = harness.RESILIENT_MOCK


class TestQueryFeatures:

    def test_query_one_consumer_then_refresh(self, circuits_app, soar, fw):
        before = fw.request_count
        result = call(circuits_app, FUNCTION_NAME, {"incident_id": INCIDENT_ID, "openc2_consumers": "fw1"})
        assert result["success"] is True, result["reason"]
        assert fw.request_count == before + 1
        (cmd,) = result["content"]["commands"]
        assert cmd["command"] == {"action": "query",
                                  "target": {"features": ["versions", "profiles", "pairs", "rate_limit"]}}
        pairs = fw.actuator.pairs

        (row,) = soar.rows(INCIDENT_ID, "openc2_consumers")
        assert set(row) == COLUMNS
        assert row["consumer"] == "fw1"
        assert row["reachable"] == "yes"
        assert row["versions"] == "2.0"
        assert row["profiles"] == "slpf, er"
        assert row["pairs"] == "<br>".join(f"{a}: {', '.join(t)}" for a, t in pairs.items())    # one per line
        assert row["rate_limit"] is None            # this consumer has no rate limit
        assert isinstance(row["queried_at"], int)          # datetimepicker: epoch ms
        (entry,) = result["content"]["consumers"]
        assert entry["consumer"] == "fw1" and entry["status"] == 200 and entry["error"] is None
        (note,) = soar.notes(INCIDENT_ID)
        assert "OpenC2 query features " in note and "<b>fw1 (responder fw1@example.com)</b>: OK" in note
        assert soar.rows(INCIDENT_ID, "openc2_commands") == []     # the table is for actions taken

        # asked again: the row is updated in place, not duplicated
        ids = soar.row_ids(INCIDENT_ID, "openc2_consumers")
        again = call(circuits_app, FUNCTION_NAME, {"incident_id": INCIDENT_ID, "openc2_consumers": "fw1",
                                                   "openc2_features": "versions"})
        assert again["success"] is True
        assert soar.row_ids(INCIDENT_ID, "openc2_consumers") == ids
        (row,) = soar.rows(INCIDENT_ID, "openc2_consumers")
        assert row["versions"] == "2.0" and row["pairs"] is None and row["profiles"] is None
        assert again["content"]["writeback"]["rows_updated"] == 1

    def test_query_all_includes_the_one_that_is_down(self, circuits_app, soar, fw):
        result = call(circuits_app, FUNCTION_NAME, {"incident_id": INCIDENT_ID})
        assert result["success"] is False
        rows = {r["consumer"]: r for r in soar.rows(INCIDENT_ID, "openc2_consumers")}
        assert set(rows) == {"fw1", "down"}
        assert rows["fw1"]["reachable"] == "yes"
        assert rows["down"]["reachable"].startswith("no: ")
        assert rows["down"]["versions"] is None
        assert result["reason"].startswith("down: ")

    def test_unknown_feature_is_rejected(self, circuits_app, soar, fw):
        before = fw.request_count
        result = call(circuits_app, FUNCTION_NAME, {"incident_id": INCIDENT_ID, "openc2_features": "colour"})
        assert result["success"] is False
        assert result["content"]["error"]["field"] == "openc2_features"
        (note,) = soar.notes(INCIDENT_ID)
        assert "OpenC2 query features — input rejected" in note and "unknown feature &#x27;colour&#x27;" in note
        assert soar.rows(INCIDENT_ID, "openc2_consumers") == []
        assert fw.request_count == before
