# -*- coding: utf-8 -*-
# Generated with resilient-sdk v51.0.9.1, then written by hand.
"""The app.config template for fn_openc2 (`resilient-circuits config -c|-u`).

Why it looks like this: [fn_openc2] carries producer-wide settings and the
defaults every consumer inherits; each [fn_openc2:<name>] section is one OpenC2
Consumer. Every key has a comment line above it (no inline comments: the
app.config parser would keep them in the value). Optional keys that point at
files are commented out, because the registry checks that files exist when the
app starts. Key and certificate paths point to /etc/rescircuits, where App Host
puts the files uploaded in the app's configuration tab (next to app.config).
The keys must stay those of CONFIG_KEYS_PRODUCER /
CONFIG_KEYS_CONSUMER in fn_openc2.lib.producer.config (a test checks it).
"""
from __future__ import annotations

CONFIG_TEMPLATE = """[fn_openc2]
# headers.from of every command; MQTT responses come back on oc2/rsp/<producer_id>
producer_id = soar@example.com
# Consumers used when a function names none (comma-separated section names after 'fn_openc2:')
default_consumers = fw1
# Networks that are never denied, contained, stopped or otherwise cut off, comma-separated CIDR
protected_networks = 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16
# Refuse cutting off loopback (and localhost names), link-local, multicast and unspecified addresses
protect_special_addresses = true
# Refuse cutting off the configured consumers' own addresses, names and device ids
protect_consumer_addresses = true
# Refuse allow of ranges wider than these prefix lengths (0 permits even 0.0.0.0/0 and ::/0)
allow_min_prefix_ipv4 = 8
allow_min_prefix_ipv6 = 32
# Seconds between re-resolving the consumers' host names for the guard (0: only at start)
consumer_dns_refresh = 300
# PEM private key: sign every command (JWS detached over the JCS form)
#signing_key = /etc/rescircuits/producer.pem
# Password of signing_key when it is encrypted (use an App Host secret: $OPENC2_SIGNING_PASSWORD)
#signing_key_password = $OPENC2_SIGNING_PASSWORD
# JWS algorithm for signing_key: ES256, RS256, PS256 or EdDSA
signing_alg = ES256
# Optional JWS 'kid' header naming the signing key
#signing_kid = soar-2025
# Most messages in flight at once (single and bulk sends)
max_concurrency = 8
# Default per-request timeout in seconds for every consumer
timeout = 30
# Default number of HTTPS retries (a retry reuses the request_id)
retries = 2
# Default MQTT response collection window in seconds
collect_seconds = 10
# Proxies for all consumers (override [integrations]); HTTPS_PROXY/HTTP_PROXY in the environment win
#http_proxy = http://proxy.example.com:3128
#https_proxy = http://proxy.example.com:3128
# Write one incident note per command
write_note = true
# Write one openc2_commands data-table row per consumer answer
write_table = true
# true: leave the SOAR UI alone at start-up (no OpenC2 incident tab, no consumer choices in the menu forms)
ui_lock = false

[fn_openc2:fw1]
# A firewall reached over the OpenC2 HTTPS transfer
# https or mqtt
transport = https
# The consumer's endpoint
url = https://fw1.example.com/.well-known/openc2
# HTTPS wire dialect: https-v1.1 (message envelope) or https-v1.0 (bare command, headers in HTTP)
dialect = https-v1.1
# Override the dialect's request path, Content-Type, Accept, body form or where the status is read
#path = /.well-known/openc2
#content_type = application/openc2+json;version=1.0
#accept = application/openc2+json;version=1.0
#envelope = full
#status_in = body
# How the command's profile is encoded: string (v2.0), object or actuator (LS v1.0)
#profile_encoding = string
# true, false or the path of a CA bundle that signed the consumer's certificate
verify = true
# Client certificate and key for mutual TLS (PEM files)
#client_auth_cert = /etc/rescircuits/soar.crt
#client_auth_key = /etc/rescircuits/soar.key
# HTTP authentication: a bearer token, or basic auth user and password (use App Host secrets)
#bearer_token = $OPENC2_FW1_TOKEN
#basic_auth_user = soar
#basic_auth_password = $OPENC2_FW1_PASSWORD
# Proxies for this consumer only (override [fn_openc2])
#http_proxy = http://proxy.example.com:3128
#https_proxy = http://proxy.example.com:3128
# Per-request timeout in seconds and retries (default: the [fn_openc2] values)
timeout = 30
retries = 2
# Actuator profiles this consumer serves, comma-separated (slpf, pf, er)
profiles = slpf
# PEM public key: verify the signatures of this consumer's responses
#response_verify_key = /etc/rescircuits/fw1.pub
# headers.to for this consumer (default: the section name)
#device_id = fw1.example.com
# Most commands per minute sent to this consumer
#rate_limit = 60

[fn_openc2:edge]
# A fleet of devices behind an MQTT v5 broker
# https or mqtt
transport = mqtt
# mqtts://host:port (mqtt://host:port for tests only)
broker = mqtts://broker.example.com:8883
# Topic the commands are published to
topic = oc2/cmd/ap/slpf
# headers.from values expected to answer, comma-separated; the others are reported missing
expected_responders = fw-a, fw-b
# Response collection window in seconds
collect_seconds = 10
# true, false or the path of the CA bundle of the broker's certificate
verify = true
# PEM CA bundle for the broker's certificate (alternative to verify = <path>)
#ca = /etc/rescircuits/broker-ca.pem
# Client certificate and key for mutual TLS to the broker
#client_auth_cert = /etc/rescircuits/soar.crt
#client_auth_key = /etc/rescircuits/soar.key
# MQTT user name and password (use an App Host secret for the password)
#username = soar
#password = $OPENC2_MQTT_PASSWORD
# MQTT client id (default: generated)
#client_id = soar-openc2
# Per-request timeout in seconds
timeout = 30
# Actuator profiles the fleet serves, comma-separated
profiles = slpf
# PEM public key: verify signed responses
#response_verify_key = /etc/rescircuits/edge.pub
# headers.to for this consumer (default: the section name)
#device_id = edge
# Most commands per minute sent to this consumer
#rate_limit = 60
"""


def config_section_data() -> str:
    """The default configuration sections for app.config."""
    return CONFIG_TEMPLATE
