"""Routing: explicit names, the default consumers, and "auto" by features pairs."""
from __future__ import annotations

import pytest

from fn_openc2.lib.producer.capabilities import CapabilityCache
from fn_openc2.lib.producer.appconfig import load_settings
from fn_openc2.lib.producer.errors import RoutingError
from fn_openc2.lib.producer.routing import AUTO, DEFAULT, resolve_consumers, select_consumers

REGISTRY = load_settings({
    "fn_openc2": {"default_consumers": "fw1, fw2"},
    "fn_openc2:fw1": {"url": "https://127.0.0.1:1/"},
    "fn_openc2:fw2": {"url": "https://127.0.0.1:2/"},
    "fn_openc2:edr": {"url": "https://127.0.0.1:3/"},
})


def _route(consumers: object, action: str = "deny", target: str = "ipv4_net", value: object = "198.51.100.1",
           cache: CapabilityCache | None = None) -> list[str]:
    return resolve_consumers(REGISTRY, consumers, action=action, target_name=target,  # type: ignore[arg-type]
                             target_value=value, cache=cache)


def test_explicit_names_keep_order_and_drop_duplicates() -> None:
    assert _route(["edr", "fw1", "edr"]) == ["edr", "fw1"]
    assert _route("fw2, fw1") == ["fw2", "fw1"]


def test_default_and_none_use_default_consumers() -> None:
    assert _route(None) == ["fw1", "fw2"]
    assert _route("default") == ["fw1", "fw2"]
    assert _route([]) == ["fw1", "fw2"]


def test_unknown_name_names_it_and_the_known_ones() -> None:
    with pytest.raises(RoutingError, match=r"unknown consumer 'fw9' \(known: edr, fw1, fw2; or 'default', 'auto'\)"):
        _route(["fw1", "fw9"])


def test_unknown_names_are_all_named_once() -> None:
    with pytest.raises(RoutingError, match=r"unknown consumers 'fw9', 'x' \(known: "):
        _route("fw9, fw1, x, fw9")


def test_selection_is_checked_before_any_command_exists() -> None:
    """What SOAR and the CLI read before building: the words, or known names; unknown names refused."""
    assert select_consumers(REGISTRY, None) == DEFAULT
    assert select_consumers(REGISTRY, ["default"]) == DEFAULT
    assert select_consumers(REGISTRY, " auto ") == AUTO
    assert select_consumers(REGISTRY, ["edr", "fw1", "edr"]) == ["edr", "fw1"]
    with pytest.raises(RoutingError, match=r"unknown consumer 'default' \(known: "):
        select_consumers(REGISTRY, ["default", "fw1"])


def test_no_default_configured() -> None:
    reg = load_settings({"fn_openc2:fw1": {"url": "https://127.0.0.1:1/"}})
    with pytest.raises(RoutingError, match="default_consumers is not set"):
        resolve_consumers(reg, None, action="deny", target_name="ipv4_net")


def test_auto_picks_consumers_whose_pairs_fit() -> None:
    cache = CapabilityCache()
    cache.update("fw1", {"pairs": {"deny": ["ipv4_net", "ipv4_connection"], "query": ["features"]}})
    cache.update("edr", {"pairs": {"contain": ["device"], "deny": ["file"]}})
    cache.update("fw2", {"pairs": {"allow": ["ipv4_net"]}, "rate_limit": 30})
    assert _route("auto", cache=cache) == ["fw1"]
    assert _route("auto", "contain", "device", {"hostname": "pc1"}, cache=cache) == ["edr"]
    with pytest.raises(RoutingError, match="no consumer's features list the pair deny uri"):
        _route("auto", "deny", "uri", "https://x", cache=cache)


def test_auto_without_features_says_to_query_first() -> None:
    with pytest.raises(RoutingError, match="features known for: none; run query features first"):
        _route("auto", cache=CapabilityCache())


def test_auto_matches_profile_targets_in_both_spellings() -> None:
    cache = CapabilityCache()
    cache.update("fw1", {"pairs": {"delete": ["slpf:rule_number"]}})
    cache.update("fw2", {"pairs": {"delete": ["slpf"]}})
    assert _route("auto", "delete", "slpf", {"rule_number": 5}, cache=cache) == ["fw1", "fw2"]


def test_cache_merges_partial_answers() -> None:
    cache = CapabilityCache()
    cache.update("fw1", {"pairs": {"deny": ["ipv4_net"]}, "rate_limit": 30})
    merged = cache.update("fw1", {"versions": ["2.0"]})
    assert merged.pairs == {"deny": ("ipv4_net",)} and merged.rate_limit == 30 and merged.versions == ("2.0",)


def test_fleet_features_merge_to_the_union_with_the_lowest_rate() -> None:
    from fn_openc2.lib.producer.capabilities import Features, merge_results

    merged = merge_results([
        {"versions": ["2.0"], "profiles": ["slpf"], "pairs": {"deny": ["ipv4_net"], "query": ["features"]},
         "rate_limit": 600},
        {"versions": ["2.0"], "profiles": ["er"], "pairs": {"contain": ["device"], "query": ["features"]},
         "rate_limit": 120},
        {"pairs": {"deny": ["ipv4_net", "ipv6_net"]}},
    ])
    assert merged == {"versions": ["2.0"], "profiles": ["slpf", "er"],
                      "pairs": {"deny": ["ipv4_net", "ipv6_net"], "query": ["features"], "contain": ["device"]},
                      "rate_limit": 120}
    features = Features.from_results(merged)
    assert features.supports("contain", "device") and features.supports("deny", "ipv6_net")
    assert merge_results([{"pairs": {"deny": ["ipv4_net"]}}]) == {"pairs": {"deny": ["ipv4_net"]}}
    assert "rate_limit" not in merge_results([{"rate_limit": True}, {"rate_limit": 0}])


def test_features_that_are_not_arrays_are_ignored_not_split_into_characters() -> None:
    from fn_openc2.lib.producer.capabilities import Features

    found = Features.from_results({"versions": "2.0", "profiles": "slpf", "pairs": {"deny": "ipv4_net"}})
    assert found.versions == () and found.profiles == () and found.pairs == {}
