# -*- coding: utf-8 -*-
# Generated with resilient-sdk v51.0.9.1; CONFIG_TEMPLATE is written by tools/make_config_doc.py.
"""The app.config template for fn_openc2 (`resilient-circuits config -c|-u`).

Why it looks like this: [fn_openc2] carries producer-wide settings and the
defaults every consumer inherits; each [fn_openc2:<name>] section is one OpenC2
Consumer. Every key has a comment line above it (no inline comments: the
app.config parser would keep them in the value). Optional keys that point at
files are commented out, because the settings loader checks that files exist when the
app starts. Key and certificate paths point to /etc/rescircuits, where App Host
puts the files uploaded in the app's configuration tab (next to app.config).
The text is generated from the fields of ProducerSettings / ConsumerSettings
in fn_openc2.lib.producer.settings (their meaning, default and sample value):
edit those and run tools/make_config_doc.py (a test runs its --check).
"""
from __future__ import annotations

CONFIG_TEMPLATE = """[fn_openc2]
# headers.from of every command (and the MQTT oc2/rsp/<producer_id> topic)
producer_id = soar@example.com
# comma list of consumer names used when a function names none
default_consumers = fw1
# comma list of CIDR networks that are never denied, contained, stopped or otherwise cut off
protected_networks = 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16
# refuse cutting off loopback (and localhost names), link-local, multicast and unspecified addresses
protect_special_addresses = true
# refuse cutting off the configured consumers' own addresses, names and device ids
protect_consumer_addresses = true
# allow (and ER permitted_addresses) of an IPv4 range wider than this prefix length is refused; 0 permits everything
allow_min_prefix_ipv4 = 8
# allow of an IPv6 range wider than this prefix length is refused; 0 permits everything
allow_min_prefix_ipv6 = 32
# seconds between re-resolving the consumers' host names for the guard (0: never; failures are logged as errors)
consumer_dns_refresh = 300
# PEM private key: sign every command (JWS detached over JCS)
#signing_key = /etc/rescircuits/producer.pem
# password of signing_key, if it is encrypted
#signing_key_password = $OPENC2_SIGNING_PASSWORD
# JWS algorithm for signing_key
signing_alg = ES256
# optional JWS kid header naming the signing key
#signing_kid = soar-2025
# most messages in flight at once (single and bulk sends)
max_concurrency = 8
# default per-request timeout in seconds for consumers
timeout = 30
# default number of HTTPS retries (same request_id)
retries = 2
# default MQTT response collection window in seconds
collect_seconds = 10
# default proxy for http:// consumers (overrides [integrations])
#http_proxy = http://proxy.example.com:3128
# default proxy for https:// consumers (overrides [integrations])
#https_proxy = http://proxy.example.com:3128
# write one incident note per command
write_note = true
# write one openc2_commands data-table row per consumer answer
write_table = true
# leave the SOAR UI alone at start-up: no OpenC2 incident tab, no consumer choices in the menu forms (resilient-lib's switch)
ui_lock = false
# timeout in seconds of every SOAR REST call the app makes
soar_timeout = 30
# seconds one function may spend retrying failed SOAR writes (with backoff); what is still unwritten then is reported
writeback_budget = 120
# openc2_commands rows per (command, consumer), one per responder; beyond it one summary row
rows_per_command = 50

[fn_openc2:fw1]
# A firewall reached over the OpenC2 HTTPS transfer
# https or mqtt
transport = https
# consumer endpoint, e.g. https://fw1.example.com/.well-known/openc2
url = https://fw1.example.com/.well-known/openc2
# HTTPS transfer dialect
dialect = https-v1.1
# override the dialect's request path
#path = /.well-known/openc2
# override the dialect's Content-Type
#content_type = application/openc2+json;version=1.0
# override the dialect's Accept header
#accept = application/openc2+json;version=1.0
# override the body form: full (LS Message), bare (Command alone) or openc2-only ({"openc2": ...} with headers as HTTP headers)
#envelope = full
# override where the OpenC2 status is read: body or http
#status_in = body
# how the command's profile is encoded: string (v2.0 "slpf"), object ({"slpf": {}}) or actuator (LS v1.0)
#profile_encoding = string
# true, false or a CA bundle path to verify the consumer's certificate
verify = true
# PEM client certificate for mutual TLS
#client_auth_cert = /etc/rescircuits/soar.crt
# PEM private key of client_auth_cert
#client_auth_key = /etc/rescircuits/soar.key
# password of client_auth_key, if it is encrypted
#client_auth_key_password = $OPENC2_FW1_KEY_PASSWORD
# HTTP bearer token
#bearer_token = $OPENC2_FW1_TOKEN
# HTTP basic auth user (with basic_auth_password)
#basic_auth_user = soar
# HTTP basic auth password
#basic_auth_password = $OPENC2_FW1_PASSWORD
# proxy for http:// (overrides [fn_openc2])
#http_proxy = http://proxy.example.com:3128
# proxy for https:// (overrides [fn_openc2])
#https_proxy = http://proxy.example.com:3128
# per-request timeout in seconds (default: [fn_openc2] timeout)
#timeout = 30
# HTTPS retries reusing the request_id (default: [fn_openc2] retries)
#retries = 2
# comma list of actuator profiles this consumer serves
profiles = slpf
# profile that query features carries, in this consumer's profile_encoding (default: the first of profiles; none: no profile)
#query_profile = none
# largest answer read, in bytes once decoded (larger or compression bombs are refused)
max_answer_bytes = 4194304
# PEM public key: verify signed responses from this consumer
#response_verify_key = /etc/rescircuits/fw1.pub
# headers.to for this consumer (default: the section's name)
#device_id = fw1.example.com
# most commands per minute sent to this consumer
#rate_limit = 60

[fn_openc2:edge]
# A fleet of devices behind an MQTT v5 broker
# https or mqtt
transport = mqtt
# how the command's profile is encoded: string (v2.0 "slpf"), object ({"slpf": {}}) or actuator (LS v1.0)
#profile_encoding = string
# true, false or a CA bundle path to verify the consumer's certificate
verify = true
# PEM client certificate for mutual TLS
#client_auth_cert = /etc/rescircuits/soar.crt
# PEM private key of client_auth_cert
#client_auth_key = /etc/rescircuits/soar.key
# password of client_auth_key, if it is encrypted
#client_auth_key_password = $OPENC2_FW1_KEY_PASSWORD
# per-request timeout in seconds (default: [fn_openc2] timeout)
#timeout = 30
# comma list of actuator profiles this consumer serves
profiles = slpf
# profile that query features carries, in this consumer's profile_encoding (default: the first of profiles; none: no profile)
#query_profile = none
# largest answer read, in bytes once decoded (larger or compression bombs are refused)
max_answer_bytes = 4194304
# most answers counted for one command on an MQTT topic (default: 1000, or twice the number of expected_responders when larger)
#max_answers = 1000
# PEM public key: verify signed responses from this consumer
#response_verify_key = /etc/rescircuits/edge.pub
# headers.to for this consumer (default: the section's name)
#device_id = edge.example.com
# most commands per minute sent to this consumer
#rate_limit = 60
# mqtts://host[:port] (TLS, 8883 by default); mqtt://host[:port] and host[:port] are plain MQTT (1883) for test brokers, TLS when ca or client_auth_cert is set
broker = mqtts://broker.example.com:8883
# command topic
topic = oc2/cmd/ap/slpf
# comma list of headers.from values expected to answer
expected_responders = fw-a, fw-b
# response collection window (default: [fn_openc2])
#collect_seconds = 10
# MQTT user name
#username = soar
# MQTT password
#password = $OPENC2_MQTT_PASSWORD
# PEM CA bundle for the broker's certificate
#ca = /etc/rescircuits/broker-ca.pem
# MQTT client id (default: generated)
#client_id = soar-openc2
"""


def config_section_data() -> str:
    """The default configuration sections for app.config."""
    return CONFIG_TEMPLATE
