"""A throwaway function component for the offline-SOAR tests: it reads an
artifact, an attachment's content and a file artifact's content through the
REST client, writes a note and a data-table row the ways the app will
(``SOARCommon`` and the raw client), and returns what it saw."""
from __future__ import annotations

import base64

from resilient_circuits import AppFunctionComponent, FunctionResult, app_function
from resilient_lib import IntegrationError, SOARCommon, get_file_attachment

PACKAGE_NAME = "offline_soar_probe"
FN_NAME = "offline_soar_probe"
FN_FAIL = "offline_soar_probe_fail"


class FunctionComponent(AppFunctionComponent):

    def __init__(self, opts):
        super().__init__(opts, PACKAGE_NAME)

    @app_function(FN_NAME)
    def _probe(self, fn_inputs):
        client = self.rest_client()
        soar = SOARCommon(client)
        inc_id = fn_inputs.incident_id
        incident = client.get(f"/incidents/{inc_id}")
        artifact = client.get(f"/incidents/{inc_id}/artifacts/{fn_inputs.artifact_id}")
        listed = client.get(f"/incidents/{inc_id}/artifacts")
        attachment = get_file_attachment(client, inc_id, attachment_id=fn_inputs.attachment_id)
        yield self.status_message(f"read artifact {artifact['id']}")
        file_name, file_b64 = soar.get_case_attachment(inc_id, artifact_id=fn_inputs.file_artifact_id)

        note = (f"<p><b>probe</b> saw {artifact['value']} in {incident['name']}; "
                f"attachment says {attachment.decode('utf-8').strip()}</p>")
        soar.create_case_comment(inc_id, note)
        client.post(f"/incidents/{inc_id}/comments", {"text": "plain & simple"})
        soar.create_datatable_row(inc_id, "probe_table", {
            "artifact_value": artifact["value"],
            "status": 200,
            "ok": True,
            "detail": None,
        })
        second = client.post(f"/incidents/{inc_id}/table_data/probe_table/row_data",
                             {"cells": {"artifact_value": {"value": "second"}, "status": {"value": 500}}})
        client.put(f"/incidents/{inc_id}/table_data/probe_table/row_data/{second['id']}",
                   {"cells": {"status": {"value": 501}}})
        table = client.get(f"/incidents/{inc_id}/table_data/probe_table?handle_format=names")
        notes = soar.get_case_comments(inc_id)
        yield FunctionResult({
            "incident_name": incident["name"],
            "artifact_count": len(listed),
            "attachment_text": attachment.decode("utf-8"),
            "file_name": file_name,
            "file_content": base64.b64decode(file_b64).decode("utf-8"),
            "table_row_count": len(table["rows"]),
            "second_row_id": second["id"],
            "note_count": len(notes),
            "config_marker": self.options.get("marker"),
        })

    @app_function(FN_FAIL)
    def _fail(self, fn_inputs):
        yield self.status_message("about to fail")
        # an incident the offline SOAR does not hold: the client raises on the 404
        self.rest_client().get(f"/incidents/{fn_inputs.incident_id}")
        raise IntegrationError("unreachable")
