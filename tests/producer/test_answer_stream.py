"""answers.AnswerStream: when a fan-out's answer is passed on, and what it is judged from
(the same rules answers_for applies to a whole delivery)."""
from __future__ import annotations

from pathlib import Path

from fn_openc2.lib.language import dumps
from fn_openc2.lib.producer.answers import AnswerStream, answers_for
from fn_openc2.lib.producer.outcome import ConsumerAnswer
from fn_openc2.lib.security import load_private_key, load_public_key, sign_message
from fn_openc2.lib.transfer import Delivery, Reply
from tests.producer.helpers import registry, write_keypair


def _reply(sender: str, status: int, key_file: str | None = None) -> Reply:
    doc = {"headers": {"request_id": "RID", "from": sender}, "body": {"openc2": {"response": {"status": status}}}}
    if key_file is not None:
        doc = sign_message(doc, load_private_key(key_file))
    return Reply(transport="mqtt", message=doc, raw=dumps(doc), http_status=None, responder=sender,
                 elapsed_ms=1.0, attempts=1, received=doc)


def _consumer(**extra: str):  # type: ignore[no-untyped-def]
    return registry(edge={"transport": "mqtt", "broker": "mqtt://127.0.0.1:1", **extra}).consumers["edge"]


def test_an_interim_answer_waits_for_its_final_one() -> None:
    passed: list[ConsumerAnswer] = []
    stream = AnswerStream(_consumer(), "RID", "complete", None, passed.append)
    stream.add(_reply("fw-a", 102))
    assert passed == []
    stream.add(_reply("fw-a", 200))
    assert [(a.responder, a.status) for a in passed] == [("fw-a", 200)]


def test_with_a_verify_key_only_a_verified_answer_is_passed_on_early(tmp_path: Path) -> None:
    """An unsigned answer in a responder's name is held (someone may be answering for it); the
    signed one, when it comes, stands and the other is flagged, as answers_for decides."""
    private, public = write_keypair(tmp_path, "consumer")
    key = load_public_key(public)
    passed: list[ConsumerAnswer] = []
    stream = AnswerStream(_consumer(response_verify_key=public), "RID", "complete", key, passed.append)
    spoofed, real = _reply("fw-a", 500), _reply("fw-a", 200, private)
    stream.add(spoofed)
    assert passed == []
    stream.add(real)
    (answer,) = passed
    expected = answers_for(_consumer(response_verify_key=public), "RID", Delivery(replies=[spoofed, real]),
                           "complete", key, 1.0)[0]
    assert (answer.status, answer.signature, answer.error, answer.warnings) == \
        (expected.status, expected.signature, expected.error, expected.warnings) == \
        (200, "verified", None, ["1 unsigned or unverifiable answer claiming to be from fw-a not counted"])


def test_the_rest_is_judged_at_the_end_and_late_answers_are_said_once() -> None:
    passed: list[ConsumerAnswer] = []
    stream = AnswerStream(_consumer(), "RID", "complete", None, passed.append)
    stream.add(_reply("fw-a", 200))
    stream.add(_reply("fw-a", 500))                 # after fw-a's answer was passed on: not counted
    stream.add(_reply("fw-b", 102))                 # never a final answer
    lines = stream.finish(Delivery(missing=["fw-c"], notices=["a notice"]), 5.0)
    assert [(a.responder, a.status) for a in passed] == [("fw-a", 200), ("fw-b", 102), ("fw-c", None)]
    assert passed[1].error == "only an interim answer (102 Processing) arrived, no final response"
    assert passed[2].outcome_unknown and passed[2].error is not None
    assert lines == ["a notice", "1 further answer(s) from responders already counted were not counted: "
                                 "'fw-a' (1)"]
    assert passed[0].warnings == [] and lines[0] in passed[1].warnings


def test_facts_worked_out_on_arrival_judge_exactly_as_a_whole_delivery(tmp_path: Path,
                                                                         monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The accumulated fan-out (Producer.send without on_answer) checks each reply as it arrives
    (ReplyFacts) and judges the whole delivery at the end: same answers as judging everything
    then, and each response's schema checked once, not again at the end."""
    from fn_openc2.lib.producer import answers as answers_module
    from fn_openc2.lib.producer.answers import ReplyFacts

    private, public = write_keypair(tmp_path, "consumer")
    key = load_public_key(public)
    odd = _reply("fw-c", 200)
    odd.message["body"]["openc2"]["response"]["results"] = {"no_such_result": 1}   # a schema warning
    replies = [_reply("fw-a", 500), _reply("fw-a", 200, private), _reply("fw-b", 102), _reply("fw-b", 200, private),
               odd, _reply("fw-d", 200)]
    consumer = _consumer(response_verify_key=public)
    expected = answers_for(consumer, "RID", Delivery(replies=replies, missing=["fw-e"]), "complete", key, 1.0)
    checked: list[object] = []
    real_check = answers_module.check_response
    monkeypatch.setattr(answers_module, "check_response", lambda doc: checked.append(doc) or real_check(doc))
    facts = ReplyFacts(key)
    for reply in replies:
        facts.add(reply)
    assert len(checked) == len(replies)
    judged = answers_for(consumer, "RID", Delivery(replies=facts.replies, missing=["fw-e"]), "complete", key, 1.0,
                         facts)
    assert len(checked) == len(replies)          # nothing checked a second time
    assert [a.to_dict() for a in judged] == [a.to_dict() for a in expected]
    assert any(w.startswith("body.openc2.response.results.no_such_result") for w in judged[2].warnings)
    assert judged[3].error and "response not signed" in judged[3].error    # fw-d unsigned under a verify key
