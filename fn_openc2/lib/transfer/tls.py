"""The client side of TLS, one way for both transfers: TLS 1.2 at least, the peer's
certificate checked against a CA (a file or a directory) and its name, an optional
client certificate for mutual TLS."""
from __future__ import annotations

import os
import ssl


def client_context(verify: bool | str, client_cert: str | None = None, client_key: str | None = None, *,
                   default_ca: str | None = None) -> ssl.SSLContext:
    """``verify``: False (nothing checked: tests only), True (``default_ca``, else the
    system's CAs) or the path of a CA bundle or directory. Loads every file once, now,
    so a missing or unreadable one fails here (OSError / ssl.SSLError)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if verify is False:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    else:
        where = default_ca if verify is True else verify
        if where is None:
            context.load_default_certs()
        elif os.path.isdir(where):
            context.load_verify_locations(capath=where)
        else:
            context.load_verify_locations(cafile=where)
    if client_cert:
        context.load_cert_chain(client_cert, client_key)
    return context
