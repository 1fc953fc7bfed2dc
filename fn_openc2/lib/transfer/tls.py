"""The client side of TLS, one way for both transfers: TLS 1.2 at least, the peer's
certificate checked against a CA (a file or a directory) and its name, an optional
client certificate for mutual TLS, its key possibly encrypted."""
from __future__ import annotations

import os
import ssl

from fn_openc2.lib.errors import OpenC2Error
from fn_openc2.lib.transfer.model import TransferError


class ClientKeyError(OpenC2Error, ValueError):
    """The client key is encrypted and no password, or not the right one, was given."""


def client_context(verify: bool | str, client_cert: str | None = None, client_key: str | None = None, *,
                   default_ca: str | None = None, key_password: str | None = None) -> ssl.SSLContext:
    """``verify``: False (nothing checked: tests only), True (``default_ca``, else the
    system's CAs) or the path of a CA bundle or directory. Loads every file once, now,
    so a missing or unreadable one fails here (OSError / ssl.SSLError; ClientKeyError
    for an encrypted key without its password)."""
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
        _load_client_pair(context, client_cert, client_key, key_password)
    return context


def config_context(where: str, ca_key: str, verify: bool | str, client_cert: str | None = None,
                   client_key: str | None = None, *, default_ca: str | None = None,
                   key_password: str | None = None) -> ssl.SSLContext:
    """``client_context`` for a transport: a file that cannot be loaded is the config error its
    send reports (TransferError "config": the consumer, the keys to look at, the file and why),
    not an OpenSSL exception. ``ca_key``: what the transport's config calls its CA ("verify", "ca")."""
    try:
        return client_context(verify, client_cert, client_key, default_ca=default_ca, key_password=key_password)
    except ClientKeyError as exc:
        raise TransferError("config", f"{where}: client_auth_key: {exc} (client_auth_key_password)") from None
    except (OSError, ValueError) as exc:      # ssl.SSLError is an OSError
        reason = getattr(exc, "reason", None) or getattr(exc, "strerror", None) or str(exc)
        path = getattr(exc, "filename", None)
        raise TransferError("config", f"{where}: the TLS files ({ca_key}, client certificate or key) could not be "
                                      f"loaded: {f'{path}: ' if path else ''}{reason}") from None


def _load_client_pair(context: ssl.SSLContext, cert: str, key: str | None, password: str | None) -> None:
    """Always with a password callback: without one, OpenSSL asks for an encrypted key's
    pass phrase on the terminal, which hangs a service started from a shell."""
    def give_password() -> str:
        if password is None:
            raise ClientKeyError("the client key is encrypted and no password was given for it")
        return password

    try:
        context.load_cert_chain(cert, key, password=give_password)
    except ssl.SSLError as exc:
        # OpenSSL names a key that is not the certificate's (KEY_VALUES_MISMATCH); a wrong
        # password surfaces only as a PEM read failure, without a reason
        if password is not None and exc.reason != "KEY_VALUES_MISMATCH" and _encrypted(key or cert):
            raise ClientKeyError("the password given does not decrypt the client key") from None
        raise


def _encrypted(path: str) -> bool:
    """PKCS#8 "ENCRYPTED PRIVATE KEY" or a traditional key with a Proc-Type: 4,ENCRYPTED header."""
    try:
        with open(path, "rb") as pem:
            return b"ENCRYPTED" in pem.read(1 << 20)
    except OSError:
        return False
