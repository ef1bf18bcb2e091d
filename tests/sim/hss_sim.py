#!/usr/bin/env python3
"""hss_sim: a loopback simulator of Huawei Cloud HSS and IAM for testing hss_imgstats.

Serves, on 127.0.0.1 (or ::1) only:

* ``GET  /v5/{project_id}/image/pay-per-scan/statistics``  (HSS: X-Auth-Token or AK/SK)
* ``POST /v3/auth/tokens``                                  (IAM password tokens)
* ``GET  /openstack/latest/securitykey``                    (ECS metadata: temporary AK/SK)
* ``/_sim/...``                                             (control API, see README.md)

Every listener (plain HTTP, HTTPS, extra ``--tls`` listeners) shares one :class:`State`.
Python 3.11 standard library only.

Request pipeline for the HSS route (see :func:`handle_hss`)::

    Authenticator.check  ->  RateLimiter.acquire  ->  query validation  ->  project Behaviour

Authentication lives in :class:`Authenticator` (``check_token`` for X-Auth-Token,
``check_signature`` for ``SDK-HMAC-SHA256`` AK/SK signatures, which are recomputed from the
request as received by :func:`canonical_request`); sliding-window rate limiting per user and per
source IP in :class:`RateLimiter`.
"""

from __future__ import annotations

import argparse
import base64
import collections
import dataclasses
import datetime
import email.utils
import hashlib
import hmac
import http
import http.server
import ipaddress
import json
import math
import os
import re
import secrets
import signal
import socket
import socketserver
import ssl
import struct
import sys
import threading
import time
import urllib.parse
import uuid

JSON_CONTENT_TYPE = "application/json;charset=UTF-8"

#: The default HSS answer: every documented field, with the SDK's wire names.
FULL_STATISTICS = {
    "repository_scan_num": 5,
    "cicd_scan_num": 10,
    "free_quota_num": 2,
    "already_given": True,
    "image_free_quota": 10,
    "high_risk": {"local": 1, "registriy": 2, "cicd": 3},
    "has_risk": {"local": 4, "registriy": 5, "cicd": 6},
    "total": {"local": 7, "registriy": 8, "cicd": 9},
    "unscan": {"local": 11, "registriy": 12, "cicd": 13},
}

MSG_TOKEN_INVALID = ("Incorrect IAM authentication information: "
                     "verify aksk signature fail / token invalid")
MSG_TOKEN_EXPIRED = "The token must be updated."
MSG_AKSK_INVALID = "Incorrect IAM authentication information: verify aksk signature fail"
MSG_AKSK_TOKEN_EXPIRED = ("Incorrect IAM authentication information: "
                          "verify aksk signature fail, the security token has expired")
MSG_REQUEST_EXPIRED = "Incorrect app authentication information: the request has expired"

#: Default error bodies for statuses configured without a body: (error_code, error_msg).
HSS_ERRORS = {
    400: ("HSS.0001", "Invalid parameter."),
    401: ("APIGW.0301", MSG_TOKEN_INVALID),
    404: ("APIGW.0101", "The API does not exist or has not been published in the environment"),
    429: ("APIGW.0308", "The throttling threshold has been reached: "
                        "policy user over ratelimit,limit:5,time:1 minute."),
}

FAULTS = frozenset({"hang", "reset", "truncate", "trickle", "redirect", "big", "close"})
HSS_PATH_SUFFIX = ("image", "pay-per-scan", "statistics")
IAM_TOKEN_PATH = "/v3/auth/tokens"
METADATA_PATH = "/openstack/latest/securitykey"
CONTROL_PREFIX = "/_sim/"
MAX_BODY_BYTES = 16 * 1024 * 1024
TLS_HANDSHAKE_TIMEOUT = 10.0
RESET_PAUSE_S = 0.05  # lets the client read the partial answer before the RST arrives

#: Exceptions that only mean "the client went away"; handled silently.
QUIET_ERRORS = (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, TimeoutError,
                ssl.SSLError)

_ABSENT = object()

# -- AK/SK signing (SDK-HMAC-SHA256) ----------------------------------------------------------
SDK_ALGORITHM = "SDK-HMAC-SHA256"
SDK_DATE_FORMAT = "%Y%m%dT%H%M%SZ"
MAX_CLOCK_SKEW_S = 15 * 60
#: Strict form of the header the SDKs write: exactly these three fields, in this order.
AUTHORIZATION_RE = re.compile(
    r"SDK-HMAC-SHA256 Access=([^\s,=;]+), SignedHeaders=([^\s,=]+), Signature=([0-9a-f]{64})")
HEADER_NAME_RE = re.compile(r"[a-z0-9!#$%&'*+.^_`|~-]+")
SDK_DATE_RE = re.compile(r"\d{8}T\d{6}Z")
#: Metadata-issued credentials all act for one agency: one rate-limit user for all of them.
METADATA_PRINCIPAL = "agency:ecs-metadata"


def json_bytes(value) -> bytes:
    """Serialize ``value`` as compact JSON bytes."""
    return json.dumps(value, separators=(",", ":")).encode("utf-8")


def iam_time(epoch: float) -> str:
    """Format a Unix time like IAM does: ``2020-01-04T09:05:22.701000Z`` (UTC)."""
    dt = datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def status_phrase(status: int) -> str:
    """The standard reason phrase for ``status`` (``Unknown`` if not standard)."""
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


# --------------------------------------------------------------------------------------------
# SDK-HMAC-SHA256: the canonical request, rebuilt from what was received
# --------------------------------------------------------------------------------------------

def sdk_encode(raw: bytes) -> str:
    """Percent-encode ``raw``: keep ``A-Za-z0-9-_.~``, every other byte as uppercase ``%XX``."""
    return urllib.parse.quote(raw, safe="")  # quote() never escapes letters, digits, "-_.~"


def _wire_bytes(text: str) -> bytes:
    """The bytes received for ``text`` (http.server decodes request lines and headers as
    ISO-8859-1, so this is lossless)."""
    return text.encode("latin-1", "replace")


def canonical_uri(path: str) -> str:
    """Canonical URI of a path as received: each segment decoded then re-encoded, '/'-ended."""
    uri = "/".join(sdk_encode(urllib.parse.unquote_to_bytes(_wire_bytes(seg)))
                   for seg in path.split("/"))
    return uri if uri.endswith("/") else uri + "/"


def canonical_query(query: str) -> str:
    """Canonical query of a raw query string: decoded pairs sorted by key then value.

    ``+`` is a literal plus (as in the SDKs, which send spaces as ``%20``); empty items are
    skipped and ``k`` alone means ``k=``.
    """
    pairs = []
    for item in query.split("&"):
        if item:
            key, _, value = _wire_bytes(item).partition(b"=")
            pairs.append((urllib.parse.unquote_to_bytes(key),
                          urllib.parse.unquote_to_bytes(value)))
    pairs.sort()
    return "&".join(f"{sdk_encode(k)}={sdk_encode(v)}" for k, v in pairs)


def canonical_request(method: str, path: str, query: str, headers: dict,
                      signed_headers: list, body: bytes) -> str:
    """The canonical request; ``headers`` has lower-case names (values as http.server decoded
    them), ``signed_headers`` is sorted. Raises KeyError naming a signed header that is absent.
    """
    lines = []
    for name in signed_headers:
        value = _wire_bytes(headers[name].strip(" \t")).decode("utf-8", "replace")
        lines.append(f"{name}:{value}\n")
    canon_headers = "".join(lines)
    return "\n".join((method, canonical_uri(path), canonical_query(query), canon_headers,
                      ";".join(signed_headers), hashlib.sha256(body).hexdigest()))


def sdk_string_to_sign(sdk_date: str, canon_request: str) -> str:
    """``SDK-HMAC-SHA256\\n<date>\\n<sha256 hex of the canonical request>``."""
    digest = hashlib.sha256(canon_request.encode("utf-8")).hexdigest()
    return f"{SDK_ALGORITHM}\n{sdk_date}\n{digest}"


def sdk_signature(secret: str, string_to_sign: str) -> str:
    """Lower-hex HMAC-SHA256 of the string to sign, keyed with the SK bytes."""
    return hmac.new(secret.encode("utf-8"), string_to_sign.encode("utf-8"),
                    hashlib.sha256).hexdigest()


def parse_authorization(value: str) -> tuple[str, list, str] | None:
    """``(access, signed_headers, signature)`` from a strict SDK-HMAC-SHA256 header, or None.

    SignedHeaders must be distinct lower-case names in sorted order, as the SDKs write them.
    """
    m = AUTHORIZATION_RE.fullmatch(value)
    if m is None:
        return None
    names = m.group(2).split(";")
    if (not all(HEADER_NAME_RE.fullmatch(n) for n in names) or names != sorted(names)
            or len(set(names)) != len(names)):
        return None
    return m.group(1), names, m.group(3)


def parse_sdk_date(value: str) -> float | None:
    """Unix time of an ``X-Sdk-Date`` value (``YYYYMMDDTHHMMSSZ``, UTC), or None."""
    if not SDK_DATE_RE.fullmatch(value):
        return None
    try:
        dt = datetime.datetime.strptime(value, SDK_DATE_FORMAT)
    except ValueError:
        return None
    return dt.replace(tzinfo=datetime.timezone.utc).timestamp()


# --------------------------------------------------------------------------------------------
# Requests and responses
# --------------------------------------------------------------------------------------------

@dataclasses.dataclass
class RequestContext:
    """One parsed request, plus what routing learned about it (route, project_id)."""

    method: str
    raw_path: str            # path and query exactly as received
    path: str                # path without query
    query: dict              # {name: [values]}
    headers: dict            # {lower-case name: value}
    body: bytes
    request_id: str
    listener: str
    client_ip: str
    client_port: int
    wall_start: float
    mono_start: float
    raw_query: str = ""      # query string exactly as received (without '?')
    route: str = "other"
    project_id: str | None = None
    auth: str = "none"       # credentials the HSS route checked: "token", "aksk" or "none"
    access_key: str | None = None
    auth_error: str | None = None         # why authentication failed (log only)
    canonical_request: str | None = None  # the simulator's, logged on a signature mismatch
    throttled: bool = False
    logged: bool = False
    protocol: str = "http/1.1"  # or "h2" (--http2, chosen by the client through ALPN)
    tls_resumed: bool | None = None  # TLS: the client resumed an earlier session; else None


@dataclasses.dataclass
class Response:
    """What to send back; ``fault`` selects a misbehaving writer (see SimHandler._send)."""

    status: int
    body: bytes = b""
    headers: dict = dataclasses.field(default_factory=dict)
    fault: str | None = None
    delay_ms: float = 0.0
    trickle_ms: float = 200.0


def json_response(status: int, value, headers: dict | None = None) -> Response:
    """A plain JSON response."""
    return Response(status, json_bytes(value), dict(headers or {}))


def apigw_error(status: int, code: str, message: str, ctx: RequestContext) -> Response:
    """An API-gateway/HSS style error: ``{"error_code","error_msg","request_id"}``."""
    return json_response(status, {"error_code": code, "error_msg": message,
                                  "request_id": ctx.request_id})


def hss_error_for_status(status: int, ctx: RequestContext) -> bytes:
    """Default body for an HSS-route status configured without a body."""
    code, msg = HSS_ERRORS.get(status, (f"SIM.{status}", status_phrase(status)))
    return json_bytes({"error_code": code, "error_msg": msg, "request_id": ctx.request_id})


def iam_error(status: int, message: str, title: str | None = None) -> Response:
    """An IAM (Keystone) style error: ``{"error":{"code","message"[,"title"]}}``."""
    err = {"code": status, "message": message}
    if title is not None:
        err["title"] = title
    return json_response(status, {"error": err})


def iam_error_for_status(status: int, ctx: RequestContext) -> bytes:
    """Default body for an IAM override status configured without a body."""
    del ctx
    return json_bytes({"error": {"code": status, "message": status_phrase(status),
                                 "title": status_phrase(status)}})


def not_found(ctx: RequestContext) -> Response:
    """The gateway's answer for an unknown API."""
    return apigw_error(404, "APIGW.0101", HSS_ERRORS[404][1], ctx)


# --------------------------------------------------------------------------------------------
# Configurable behaviour (control API)
# --------------------------------------------------------------------------------------------

def _num(obj: dict, key: str, default, minimum=0, integer=False):
    """Read a non-negative number from ``obj`` with validation."""
    value = obj.get(key, default)
    if value is None:
        return default
    kinds = (int,) if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kinds) or value < minimum:
        raise ValueError(f"{key!r} must be a{'n integer' if integer else ' number'} >= {minimum}")
    return value


@dataclasses.dataclass(frozen=True)
class Behaviour:
    """A configured answer for a project (or for IAM). Built from the control API's JSON."""

    status: int | None = None
    body: object = _ABSENT
    raw: str | None = None
    headers: tuple = ()
    delay_ms: float = 0.0
    fault: str | None = None
    location: str | None = None
    trickle_ms: float = 200.0
    big_bytes: int = 2 * 1024 * 1024
    times: int | None = None

    KEYS = frozenset({"status", "body", "raw", "headers", "delay_ms", "fault", "location",
                      "trickle_ms", "big_bytes", "times"})

    @classmethod
    def from_json(cls, obj) -> "Behaviour":
        """Validate a control-API config object; raises ValueError with a readable reason."""
        if not isinstance(obj, dict):
            raise ValueError("config must be a JSON object")
        unknown = set(obj) - cls.KEYS
        if unknown:
            raise ValueError(f"unknown keys: {sorted(unknown)}")
        status = obj.get("status")
        if status is not None and (isinstance(status, bool) or not isinstance(status, int)
                                   or not 200 <= status <= 599):
            raise ValueError("'status' must be an integer in 200..599")
        raw = obj.get("raw")
        if raw is not None and not isinstance(raw, str):
            raise ValueError("'raw' must be a string")
        headers = obj.get("headers")
        headers = {} if headers is None else headers
        if not isinstance(headers, dict) or not all(
                isinstance(v, (str, int, float)) and not isinstance(v, bool)
                for v in headers.values()):
            raise ValueError("'headers' must be an object of string/number values")
        fault = obj.get("fault")
        if fault is not None and fault not in FAULTS:
            raise ValueError(f"'fault' must be null or one of {sorted(FAULTS)}")
        location = obj.get("location")
        if location is not None and not isinstance(location, str):
            raise ValueError("'location' must be a string")
        times = obj.get("times")
        if times is not None:
            times = _num(obj, "times", None, minimum=1, integer=True)
        return cls(status=status, body=obj.get("body", _ABSENT), raw=raw,
                   headers=tuple((str(k), str(v)) for k, v in headers.items()),
                   delay_ms=_num(obj, "delay_ms", 0.0), fault=fault, location=location,
                   trickle_ms=_num(obj, "trickle_ms", 200.0),
                   big_bytes=_num(obj, "big_bytes", 2 * 1024 * 1024, integer=True),
                   times=times)

    def overrides_answer(self) -> bool:
        """True if this behaviour replaces the route's normal answer (not just delays it)."""
        return (self.status is not None or self.body is not _ABSENT or self.raw is not None
                or self.fault is not None)


class BehaviourSlot:
    """A base behaviour plus a FIFO of behaviours limited to ``times`` requests each.

    ``configure`` with ``times`` queues a temporary behaviour after any already queued;
    without ``times`` it replaces the base and drops the queue (a full replacement).
    """

    def __init__(self):
        self.base: Behaviour | None = None
        self.queue: collections.deque = collections.deque()

    def configure(self, behaviour: Behaviour) -> None:
        """Install ``behaviour`` (see class docstring)."""
        if behaviour.times is None:
            self.base = behaviour
            self.queue.clear()
        else:
            self.queue.append([behaviour, behaviour.times])

    def take(self) -> Behaviour | None:
        """The behaviour for the next request, consuming one use of a temporary one."""
        if self.queue:
            entry = self.queue[0]
            entry[1] -= 1
            if entry[1] <= 0:
                self.queue.popleft()
            return entry[0]
        return self.base


def big_body(base, size: int) -> bytes:
    """A JSON object of exactly ``size`` bytes (or minimal), padded by a ``padding`` string."""
    obj = dict(base) if isinstance(base, dict) else dict(FULL_STATISTICS)
    obj["padding"] = ""
    empty = json_bytes(obj)
    obj["padding"] = "x" * max(0, size - len(empty))
    return json_bytes(obj)


def behaviour_response(b: Behaviour, ctx: RequestContext, default_body, error_body,
                       redirect_base: str) -> Response:
    """Turn a configured Behaviour into a Response.

    ``default_body()`` gives the 2xx body when none is configured, ``error_body(status, ctx)``
    the body of a >= 400 status configured without one.
    """
    headers = dict(b.headers)
    status = b.status if b.status is not None else 200
    if b.fault == "redirect":
        if not 300 <= status <= 399:
            status = 302
        headers.setdefault("Location", b.location or (redirect_base + ctx.raw_path))
    if b.fault == "big":
        body = big_body(b.body if b.body is not _ABSENT else None, b.big_bytes)
    elif b.raw is not None:
        body = b.raw.encode("utf-8")
    elif b.body is not _ABSENT:
        body = json_bytes(b.body)
    elif status >= 400:
        body = error_body(status, ctx)
    elif status <= 299:
        body = default_body()
    else:
        body = json_bytes({"location": headers.get("Location")})
    return Response(status, body, headers, fault=b.fault, delay_ms=b.delay_ms,
                    trickle_ms=b.trickle_ms)


# --------------------------------------------------------------------------------------------
# State, authentication, rate limiting
# --------------------------------------------------------------------------------------------

@dataclasses.dataclass
class IssuedToken:
    """An IAM token handed out by the simulator."""

    project_id: str
    expires_at: float
    issued_at: float
    domain: str
    user: str
    revoked: bool = False

    def to_json(self, token: str) -> dict:
        """Control-API view of the token."""
        return {"token": token, "project_id": self.project_id, "domain": self.domain,
                "user": self.user, "issued_at": iam_time(self.issued_at),
                "expires_at": iam_time(self.expires_at), "revoked": self.revoked}


@dataclasses.dataclass
class AkSkCredential:
    """An AK/SK pair; temporary ones (ECS metadata, or control with a token) have
    ``security_token`` and usually ``expires_at``."""

    access: str
    secret: str
    origin: str                       # "cli", "control" or "metadata"
    security_token: str | None = None
    expires_at: float | None = None
    issued_at: float = 0.0
    principal: str = ""               # rate-limit user key; "aksk:<AK>" unless metadata

    def __post_init__(self):
        if not self.principal:
            self.principal = "aksk:" + self.access

    def to_json(self) -> dict:
        """Control-API view (GET /_sim/aksk)."""
        return {"access": self.access, "secret": self.secret, "origin": self.origin,
                "security_token": self.security_token,
                "expires_at": None if self.expires_at is None else iam_time(self.expires_at)}

    def metadata_json(self) -> dict:
        """The ECS metadata service's answer for this credential."""
        return {"credential": {"access": self.access, "secret": self.secret,
                               "securitytoken": self.security_token,
                               "expires_at": iam_time(self.expires_at)}}


@dataclasses.dataclass(frozen=True)
class RateLimit:
    """A budget of ``calls`` accepted requests per sliding ``seconds``, for ``per`` keys."""

    calls: int
    seconds: float
    per: str = "both"                 # "user", "ip" or "both"

    def applies_to(self, kind: str) -> bool:
        """True if keys of ``kind`` ("user" or "ip") are limited."""
        return self.per == "both" or self.per == kind

    def time_text(self) -> str:
        """The window as the gateway's message words it (``1 minute``, ``10 seconds``)."""
        if self.seconds % 60 == 0:
            n = int(self.seconds // 60)
            return f"{n} minute" + ("s" if n != 1 else "")
        n = int(self.seconds) if float(self.seconds).is_integer() else self.seconds
        return f"{n} second" + ("s" if n != 1 else "")

    def message(self, kind: str) -> str:
        """The APIGW.0308 error message for a request over the ``kind`` budget."""
        return (f"The throttling threshold has been reached: policy {kind} over ratelimit,"
                f"limit:{self.calls},time:{self.time_text()}.")


class RateLimiter:
    """Sliding-window limiter over keys like ``("user", principal)`` and ``("ip", addr)``.

    A key may have ``calls`` *accepted* requests in any ``seconds``; a request is accepted
    only if every limited key it presents has room, and only then counts against each of them
    (so 429s never use up the budget). Off (allow everything) while ``config`` is None.
    Called with the State lock *not* held; it does its own locking.
    """

    def __init__(self, default: RateLimit | None = None):
        self.lock = threading.Lock()
        self.default = default
        self.config = default
        self.windows: dict[tuple, collections.deque] = {}

    def configure(self, config: RateLimit | None) -> None:
        """Install ``config`` (None: off) and forget every window."""
        with self.lock:
            self.config = config
            self.windows.clear()

    def acquire(self, keys, now: float) -> tuple[float, str, RateLimit] | None:
        """Admit a request presenting ``keys`` at ``now``: None if accepted (and counted),
        else ``(seconds until it would be, kind of the binding key, config)``."""
        with self.lock:
            cfg = self.config
            if cfg is None:
                return None
            limited = [k for k in keys if cfg.applies_to(k[0])]
            worst = None
            for key in limited:
                window = self.windows.get(key)
                if window is None:
                    continue
                while window and window[0] + cfg.seconds <= now:
                    window.popleft()
                if len(window) >= cfg.calls:
                    wait = window[len(window) - cfg.calls] + cfg.seconds - now
                    if worst is None or wait > worst[0]:
                        worst = (wait, key[0], cfg)
            if worst is not None:
                return worst
            for key in limited:
                self.windows.setdefault(key, collections.deque()).append(now)
            return None

    def check(self, key: tuple, now: float) -> float | None:
        """Single-key form of :meth:`acquire`: None, or the seconds to wait."""
        verdict = self.acquire([key], now)
        return None if verdict is None else verdict[0]

    def reset(self) -> None:
        """POST /_sim/reset: back to the command-line budget, every window forgotten."""
        self.configure(self.default)


class AuthFailure(Exception):
    """An authentication failure: ``reason`` goes to the log, ``response`` to the client."""

    def __init__(self, reason: str, code: str = "APIGW.0301", message: str = MSG_AKSK_INVALID):
        super().__init__(reason)
        self.reason, self.code, self.message = reason, code, message


class Authenticator:
    """Decides whether an HSS request is authenticated, and as whom.

    ``check`` dispatches on the credentials present: an ``Authorization`` header with the
    ``SDK-HMAC-SHA256`` scheme is verified by ``check_signature`` (X-Auth-Token is then
    ignored); otherwise ``X-Auth-Token`` goes to ``check_token``.
    """

    def __init__(self, state: "State"):
        self.state = state

    def check(self, ctx: RequestContext, project_id: str) -> tuple[str | None, Response | None]:
        """Return ``(principal, None)`` if authenticated, else ``(None, error_response)``."""
        authorization = ctx.headers.get("authorization", "")
        if authorization.split(" ", 1)[0] == SDK_ALGORITHM:
            ctx.auth = "aksk"
            try:
                return self.check_signature(ctx, authorization, project_id), None
            except AuthFailure as exc:
                ctx.auth_error = exc.reason
                return None, apigw_error(401, exc.code, exc.message, ctx)
        token = ctx.headers.get("x-auth-token")
        if token:
            ctx.auth = "token"
            return self.check_token(ctx, token, project_id)
        ctx.auth_error = "no credentials"
        return None, apigw_error(401, "APIGW.0301", MSG_TOKEN_INVALID, ctx)

    def check_token(self, ctx: RequestContext, token: str,
                    project_id: str) -> tuple[str | None, Response | None]:
        """Validate a static or IAM-issued token for ``project_id``."""
        verdict, principal = self.state.token_verdict(token, project_id, time.time())
        if verdict == "ok":
            return principal, None
        ctx.auth_error = f"token {verdict}"
        if verdict == "expired":
            return None, apigw_error(401, "APIGW.0307", MSG_TOKEN_EXPIRED, ctx)
        return None, apigw_error(401, "APIGW.0301", MSG_TOKEN_INVALID, ctx)

    def check_signature(self, ctx: RequestContext, authorization: str, project_id: str) -> str:
        """Verify an SDK-HMAC-SHA256 request; returns the principal or raises AuthFailure."""
        parsed = parse_authorization(authorization)
        if parsed is None:
            raise AuthFailure("malformed Authorization header")
        access, signed, signature = parsed
        ctx.access_key = access
        cred = self.state.find_aksk(access)
        if cred is None:
            raise AuthFailure("unknown access key")
        headers = ctx.headers
        if "x-sdk-date" not in signed:
            raise AuthFailure("x-sdk-date not signed")
        sdk_date = headers.get("x-sdk-date")
        if sdk_date is None:
            raise AuthFailure("X-Sdk-Date header missing")
        signed_at = parse_sdk_date(sdk_date)
        if signed_at is None:
            raise AuthFailure("X-Sdk-Date malformed (want YYYYMMDDTHHMMSSZ)")
        if "host" not in signed:
            raise AuthFailure("host not signed")
        missing = [name for name in signed if name not in headers]
        if missing:
            raise AuthFailure(f"signed header(s) missing from the request: {missing}")
        canon = canonical_request(ctx.method, ctx.path, ctx.raw_query, headers, signed,
                                  ctx.body)
        expected = sdk_signature(cred.secret, sdk_string_to_sign(sdk_date, canon))
        if not hmac.compare_digest(expected, signature):
            ctx.canonical_request = canon
            raise AuthFailure("signature mismatch (see canonical_request)")
        sent_token = headers.get("x-security-token")
        if cred.security_token is None:
            if sent_token is not None:
                raise AuthFailure("X-Security-Token sent with a permanent access key")
        else:
            if sent_token is None:
                raise AuthFailure("temporary access key without X-Security-Token")
            if "x-security-token" not in signed:
                raise AuthFailure("x-security-token not signed")
            if not hmac.compare_digest(sent_token.encode("latin-1", "replace"),
                                       cred.security_token.encode("latin-1", "replace")):
                raise AuthFailure("security token does not match the access key")
        if cred.expires_at is not None and time.time() > cred.expires_at:
            raise AuthFailure("temporary credential expired", message=MSG_AKSK_TOKEN_EXPIRED)
        if "x-project-id" in headers:
            if "x-project-id" not in signed:
                raise AuthFailure("x-project-id not signed")
            if headers["x-project-id"].strip() != project_id:
                raise AuthFailure("X-Project-Id does not match the path's project")
        skew = signed_at - self.state.now()
        if abs(skew) > MAX_CLOCK_SKEW_S:
            raise AuthFailure(f"X-Sdk-Date {skew:+.0f} s from the simulator's clock",
                              "APIGW.0303", MSG_REQUEST_EXPIRED)
        return cred.principal


class State:
    """Everything mutable in the simulator, shared by all listeners and guarded by ``lock``."""

    def __init__(self, token_ttl: float, log_path: str | None, metadata_ttl: float = 900.0,
                 rate_limit: RateLimit | None = None):
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.default_token_ttl = token_ttl
        self.token_ttl = token_ttl
        self.users: dict[tuple[str, str], str] = {}            # (domain, user) -> password
        self.static_tokens: dict[str, str | None] = {}         # token -> project or None
        self.iam_tokens: dict[str, IssuedToken] = {}
        self.projects: dict[str, BehaviourSlot] = {}
        self.iam = BehaviourSlot()
        self.requests: list[dict] = []
        self.hss_counts: collections.Counter = collections.Counter()
        self.route_counts: collections.Counter = collections.Counter()
        self.status_counts: collections.Counter = collections.Counter()
        self.log_file = open(log_path, "a", encoding="utf-8") if log_path else None
        self.redirect_base = ""  # "http://127.0.0.1:PORT", set once listeners are bound
        self.aksk: dict[str, AkSkCredential] = {}              # AK -> credential
        self.default_metadata_ttl = metadata_ttl
        self.metadata_ttl = metadata_ttl
        self.metadata_current: AkSkCredential | None = None
        self.metadata = BehaviourSlot()
        self.clock_offset = 0.0
        self.authenticator = Authenticator(self)
        self.rate_limiter = RateLimiter(rate_limit)

    def now(self) -> float:
        """The simulator's clock for X-Sdk-Date checks and the Date header (offset by
        POST /_sim/clock)."""
        return time.time() + self.clock_offset

    # -- credentials ---------------------------------------------------------------------
    def add_user(self, domain: str, user: str, password: str) -> None:
        """Add (or replace) an IAM user."""
        with self.lock:
            self.users[(domain, user)] = password

    def check_user(self, domain: str, user: str, password: str) -> bool:
        """True if the IAM credentials match a configured user."""
        with self.lock:
            expected = self.users.get((domain, user))
        return expected is not None and secrets.compare_digest(expected.encode(),
                                                               password.encode())

    def add_static_token(self, token: str, project_id: str | None) -> None:
        """Accept ``token`` for ``project_id`` (any project if None)."""
        with self.lock:
            self.static_tokens[token] = project_id

    def clear_static_tokens(self) -> int:
        """Remove every static token; returns how many there were."""
        with self.lock:
            n = len(self.static_tokens)
            self.static_tokens.clear()
            return n

    def issue_token(self, project_id: str, domain: str, user: str) -> tuple[str, IssuedToken]:
        """Create a new IAM token scoped to ``project_id`` with the current TTL."""
        now = time.time()
        token = secrets.token_hex(64)
        with self.lock:
            issued = IssuedToken(project_id, now + self.token_ttl, now, domain, user)
            self.iam_tokens[token] = issued
        return token, issued

    def expire_tokens(self) -> int:
        """Revoke every IAM token issued so far; returns how many."""
        with self.lock:
            for issued in self.iam_tokens.values():
                issued.revoked = True
            return len(self.iam_tokens)

    def set_token_ttl(self, seconds: float) -> None:
        """Lifetime of tokens issued from now on."""
        with self.lock:
            self.token_ttl = seconds

    def list_tokens(self) -> list[dict]:
        """Every IAM token issued, for GET /_sim/tokens."""
        with self.lock:
            return [t.to_json(k) for k, t in self.iam_tokens.items()]

    def token_verdict(self, token: str, project_id: str, now: float) -> tuple[str, str | None]:
        """``("ok", principal)``, ``("expired", None)`` or ``("invalid", None)``."""
        with self.lock:
            if token in self.static_tokens:
                scope = self.static_tokens[token]
                if scope is None or scope == project_id:
                    return "ok", "static:" + token
                return "invalid", None
            issued = self.iam_tokens.get(token)
            if issued is None:
                return "invalid", None
            if issued.revoked or now >= issued.expires_at:
                return "expired", None
            if issued.project_id != project_id:
                return "invalid", None
            return "ok", f"iam:{issued.domain}/{issued.user}"

    # -- AK/SK -------------------------------------------------------------------------------
    def add_aksk(self, cred: AkSkCredential) -> None:
        """Accept ``cred`` (replacing any credential with the same AK)."""
        with self.lock:
            self.aksk[cred.access] = cred

    def find_aksk(self, access: str) -> AkSkCredential | None:
        """The credential for ``access``, if any (expired ones included)."""
        with self.lock:
            return self.aksk.get(access)

    def clear_control_aksk(self) -> int:
        """Remove the credentials added by the control API; returns how many."""
        with self.lock:
            doomed = [k for k, c in self.aksk.items() if c.origin == "control"]
            for k in doomed:
                del self.aksk[k]
            return len(doomed)

    def list_aksk(self) -> list[dict]:
        """Every known credential, for GET /_sim/aksk."""
        with self.lock:
            return [c.to_json() for c in self.aksk.values()]

    # -- ECS metadata ------------------------------------------------------------------------
    def _new_metadata_credential(self, now: float) -> AkSkCredential:
        """Issue a temporary credential with the current metadata TTL (lock held)."""
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
        access = "".join(secrets.choice(alphabet) for _ in range(20))
        secret = "".join(secrets.choice(alphabet + "abcdefghijklmnopqrstuvwxyz")
                         for _ in range(40))
        token = base64.b64encode(secrets.token_bytes(768)).decode("ascii")
        cred = AkSkCredential(access, secret, "metadata", token, now + self.metadata_ttl, now,
                              METADATA_PRINCIPAL)
        self.aksk[access] = cred
        self.metadata_current = cred
        return cred

    def metadata_credential(self, now: float) -> AkSkCredential:
        """The metadata service's current credential, renewed once under a third of its
        lifetime remains (earlier ones stay valid until their own expiry)."""
        with self.lock:
            cur = self.metadata_current
            if cur is None or cur.expires_at - now < (cur.expires_at - cur.issued_at) / 3:
                cur = self._new_metadata_credential(now)
            return cur

    def rotate_metadata(self, now: float) -> AkSkCredential:
        """Issue a new metadata credential now."""
        with self.lock:
            return self._new_metadata_credential(now)

    def configure_metadata(self, ttl: float | None, behaviour: Behaviour | None,
                           clear: bool = False) -> None:
        """Set the TTL of future credentials and/or add a behaviour; ``clear`` drops every
        behaviour and restores the command-line TTL."""
        with self.lock:
            if clear:
                self.metadata = BehaviourSlot()
                self.metadata_ttl = self.default_metadata_ttl
            if ttl is not None:
                self.metadata_ttl = ttl
            if behaviour is not None:
                self.metadata.configure(behaviour)

    def take_metadata_behaviour(self) -> Behaviour | None:
        """The override for the next metadata request, if any."""
        with self.lock:
            return self.metadata.take()

    def set_clock_offset(self, offset: float) -> None:
        """Shift the simulator's clock (X-Sdk-Date checks, Date header) by ``offset`` s."""
        with self.lock:
            self.clock_offset = offset

    # -- behaviours ------------------------------------------------------------------------
    def configure_project(self, project_id: str, behaviour: Behaviour | None) -> None:
        """Install a behaviour for a project; None resets it to the default."""
        with self.lock:
            if behaviour is None:
                self.projects.pop(project_id, None)
            else:
                self.projects.setdefault(project_id, BehaviourSlot()).configure(behaviour)

    def take_project_behaviour(self, project_id: str) -> Behaviour | None:
        """The behaviour to apply to the next request for ``project_id``."""
        with self.lock:
            slot = self.projects.get(project_id)
            return slot.take() if slot else None

    def configure_iam(self, behaviour: Behaviour | None) -> None:
        """Install an IAM override; None removes all of them."""
        with self.lock:
            if behaviour is None:
                self.iam = BehaviourSlot()
            else:
                self.iam.configure(behaviour)

    def take_iam_behaviour(self) -> Behaviour | None:
        """The IAM override to apply to the next token request, if any."""
        with self.lock:
            return self.iam.take()

    # -- request log -----------------------------------------------------------------------
    def record(self, entry: dict) -> None:
        """Append a request record to the in-memory list, the counters and the log file."""
        line = json.dumps(entry, separators=(",", ":")) + "\n"
        with self.lock:
            self.requests.append(entry)
            self.route_counts[entry["route"]] += 1
            if entry["route"] == "hss":
                self.hss_counts[entry["project_id"]] += 1
            if entry["throttled"]:
                self.route_counts["throttled"] += 1
            if entry["status"]:
                self.status_counts[str(entry["status"])] += 1
            if self.log_file is not None:
                self.log_file.write(line)
                self.log_file.flush()

    def snapshot_requests(self) -> list[dict]:
        """A copy of the request list (records are never mutated after logging)."""
        with self.lock:
            return list(self.requests)

    def stats(self) -> dict:
        """Counters for GET /_sim/stats."""
        with self.lock:
            return {"hss": dict(self.hss_counts), "iam": self.route_counts["iam"],
                    "metadata": self.route_counts["metadata"],
                    "other": self.route_counts["other"],
                    "throttled": self.route_counts["throttled"],
                    "status": dict(self.status_counts)}

    def reset(self) -> None:
        """POST /_sim/reset: forget behaviours, counters, the log list, the TTL overrides, the
        clock offset and rate-limit windows (the command-line budget applies again).

        Users, static tokens, issued IAM tokens and AK/SK credentials are kept (the metadata
        service issues a fresh credential on its next request, with the command-line TTL, and
        earlier ones stay valid until they expire); the log file keeps growing.
        """
        with self.lock:
            self.projects.clear()
            self.iam = BehaviourSlot()
            self.requests = []
            self.hss_counts.clear()
            self.route_counts.clear()
            self.status_counts.clear()
            self.token_ttl = self.default_token_ttl
            self.metadata = BehaviourSlot()
            self.metadata_ttl = self.default_metadata_ttl
            self.metadata_current = None  # next GET issues a fresh one; old ones stay valid
            self.clock_offset = 0.0
        self.rate_limiter.reset()

    def close(self) -> None:
        """Flush and close the log file."""
        with self.lock:
            if self.log_file is not None:
                self.log_file.close()
                self.log_file = None


# --------------------------------------------------------------------------------------------
# Routes
# --------------------------------------------------------------------------------------------

def match_hss_path(path: str) -> str | None:
    """The project id if ``path`` is the statistics API path, else None."""
    parts = path.split("/")
    if len(parts) != 6 or parts[:2] != ["", "v5"] or tuple(parts[3:]) != HSS_PATH_SUFFIX:
        return None
    project_id = urllib.parse.unquote(parts[2])
    return project_id if 1 <= len(project_id) <= 256 else None


def handle_hss(state: State, ctx: RequestContext, project_id: str) -> Response:
    """``GET /v5/{project_id}/image/pay-per-scan/statistics``."""
    principal, error = state.authenticator.check(ctx, project_id)
    if error is not None:
        return error
    verdict = state.rate_limiter.acquire((("user", principal), ("ip", ctx.client_ip)),
                                         time.monotonic())
    if verdict is not None:
        wait, kind, limit = verdict
        ctx.throttled = True
        resp = apigw_error(429, HSS_ERRORS[429][0], limit.message(kind), ctx)
        resp.headers["Retry-After"] = str(max(1, math.ceil(wait)))
        return resp
    eps = ctx.query.get("enterprise_project_id")
    if eps is not None and (len(eps) != 1 or not 1 <= len(eps[0]) <= 256):
        return apigw_error(400, "HSS.0001", "Invalid parameter: enterprise_project_id", ctx)
    behaviour = state.take_project_behaviour(project_id)
    if behaviour is None:
        return Response(200, json_bytes(FULL_STATISTICS))
    return behaviour_response(behaviour, ctx, lambda: json_bytes(FULL_STATISTICS),
                              hss_error_for_status, state.redirect_base)


def parse_iam_request(body: bytes) -> tuple[str, str, str, str]:
    """Validate an IAM password-token request; returns (domain, user, password, project_id)."""
    try:
        doc = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise ValueError("The request body is not valid JSON.") from None

    def obj(parent, key, where):
        value = parent.get(key) if isinstance(parent, dict) else None
        if not isinstance(value, dict):
            raise ValueError(f"Invalid input for field '{where}{key}'.")
        return value

    def text(parent, key, where):
        value = parent.get(key)
        if not isinstance(value, str) or not value:
            raise ValueError(f"Invalid input for field '{where}{key}'.")
        return value

    auth = obj(doc, "auth", "")
    identity = obj(auth, "identity", "auth.")
    methods = identity.get("methods")
    if not isinstance(methods, list) or "password" not in methods:
        raise ValueError("Invalid input for field 'auth.identity.methods'.")
    user = obj(obj(identity, "password", "auth.identity."), "user", "auth.identity.password.")
    where = "auth.identity.password.user."
    name, password = text(user, "name", where), text(user, "password", where)
    domain = text(obj(user, "domain", where), "name", where + "domain.")
    project_id = text(obj(obj(auth, "scope", "auth."), "project", "auth.scope."), "id",
                      "auth.scope.project.")
    return domain, name, password, project_id


def handle_iam(state: State, ctx: RequestContext) -> Response:
    """``POST /v3/auth/tokens`` with the password method and a project scope."""
    override = state.take_iam_behaviour()
    if override is not None and override.overrides_answer():
        return behaviour_response(override, ctx, lambda: b"{}", iam_error_for_status,
                                  state.redirect_base)
    resp = issue_iam_token(state, ctx)
    if override is not None:
        resp.delay_ms = override.delay_ms
        resp.headers.update(override.headers)
    return resp


def issue_iam_token(state: State, ctx: RequestContext) -> Response:
    """The normal IAM answer: 400, 401 or 201 with a fresh token."""
    try:
        domain, user, password, project_id = parse_iam_request(ctx.body)
    except ValueError as exc:
        return iam_error(400, str(exc))
    ctx.project_id = project_id
    if not state.check_user(domain, user, password):
        return iam_error(401, "The username or password is wrong.", "Unauthorized")
    token, issued = state.issue_token(project_id, domain, user)
    body = {"token": {
        "expires_at": iam_time(issued.expires_at),
        "issued_at": iam_time(issued.issued_at),
        "methods": ["password"],
        "project": {"id": project_id, "name": "sim", "domain": {"name": domain}},
        "user": {"name": user, "domain": {"name": domain}},
    }}
    return json_response(201, body, {"X-Subject-Token": token})


def handle_metadata(state: State, ctx: RequestContext) -> Response:
    """``GET /openstack/latest/securitykey``: the ECS metadata service's temporary AK/SK."""
    override = state.take_metadata_behaviour()

    def answer() -> bytes:
        return json_bytes(state.metadata_credential(time.time()).metadata_json())

    if override is not None and override.overrides_answer():
        return behaviour_response(override, ctx, answer, iam_error_for_status,
                                  state.redirect_base)
    resp = Response(200, answer())
    if override is not None:
        resp.delay_ms = override.delay_ms
        resp.headers.update(override.headers)
    return resp


def route_request(state: State, ctx: RequestContext) -> Response:
    """Dispatch a non-control request; sets ``ctx.route`` and ``ctx.project_id``."""
    project_id = match_hss_path(ctx.path)
    if project_id is not None:
        ctx.route, ctx.project_id = "hss", project_id
        if ctx.method != "GET":
            return not_found(ctx)
        return handle_hss(state, ctx, project_id)
    if ctx.path == IAM_TOKEN_PATH:
        ctx.route = "iam"
        if ctx.method != "POST":
            return iam_error(405, "Method Not Allowed")
        return handle_iam(state, ctx)
    if ctx.path == METADATA_PATH:
        ctx.route = "metadata"
        if ctx.method != "GET":
            return iam_error(405, "Method Not Allowed")
        return handle_metadata(state, ctx)
    return not_found(ctx)


# --------------------------------------------------------------------------------------------
# Control API
# --------------------------------------------------------------------------------------------

class ControlError(Exception):
    """A control request that cannot be honoured; becomes ``{"error": msg}``."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def control_json(ctx: RequestContext):
    """The control request body as JSON ({} if empty)."""
    if not ctx.body.strip():
        return {}
    try:
        return json.loads(ctx.body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise ControlError(400, "body is not valid JSON") from None


def control_object(ctx: RequestContext) -> dict:
    """The control request body, which must be a JSON object."""
    doc = control_json(ctx)
    if not isinstance(doc, dict):
        raise ControlError(400, "body must be a JSON object")
    return doc


def control_behaviour(ctx: RequestContext) -> Behaviour:
    """Parse a behaviour config from the control request body."""
    try:
        return Behaviour.from_json(control_json(ctx))
    except ValueError as exc:
        raise ControlError(400, str(exc)) from None


def required_str(doc: dict, key: str) -> str:
    """A mandatory non-empty string field of a control body."""
    value = doc.get(key)
    if not isinstance(value, str) or not value:
        raise ControlError(400, f"{key!r} must be a non-empty string")
    return value


def ctl_project(state, ctx, project_id):
    """POST/DELETE /_sim/project/{project_id}."""
    if ctx.method == "DELETE":
        state.configure_project(project_id, None)
    else:
        state.configure_project(project_id, control_behaviour(ctx))
    return {"ok": True, "project_id": project_id}


def ctl_iam(state, ctx):
    """POST/DELETE /_sim/iam."""
    state.configure_iam(None if ctx.method == "DELETE" else control_behaviour(ctx))
    return {"ok": True}


def ctl_iam_users(state, ctx):
    """POST /_sim/iam/users {"domain","user","password"}."""
    doc = control_object(ctx)
    state.add_user(required_str(doc, "domain"), required_str(doc, "user"),
                   required_str(doc, "password"))
    return {"ok": True}


def ctl_static_tokens(state, ctx):
    """POST /_sim/static-tokens {"token","project_id"?}; DELETE removes all."""
    if ctx.method == "DELETE":
        return {"ok": True, "removed": state.clear_static_tokens()}
    doc = control_object(ctx)
    project_id = doc.get("project_id")
    if project_id is not None and (not isinstance(project_id, str) or not project_id):
        raise ControlError(400, "'project_id' must be a non-empty string or null")
    state.add_static_token(required_str(doc, "token"), project_id)
    return {"ok": True}


def ctl_expire_tokens(state, ctx):
    """POST /_sim/tokens/expire."""
    del ctx
    return {"ok": True, "expired": state.expire_tokens()}


def ctl_list_tokens(state, ctx):
    """GET /_sim/tokens."""
    del ctx
    return state.list_tokens()


def ctl_token_ttl(state, ctx):
    """POST /_sim/token-ttl {"seconds": N}."""
    seconds = control_object(ctx).get("seconds")
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
        raise ControlError(400, "'seconds' must be a number")
    state.set_token_ttl(float(seconds))
    return {"ok": True, "seconds": seconds}


def optional_number(doc: dict, key: str, minimum: float | None = None,
                    positive: bool = False) -> float | None:
    """An optional numeric field of a control body (None if absent or null)."""
    value = doc.get(key)
    if value is None:
        return None
    if (isinstance(value, bool) or not isinstance(value, (int, float))
            or not math.isfinite(value) or (positive and value <= 0)
            or (minimum is not None and value < minimum)):
        raise ControlError(400, f"{key!r} must be a {'positive ' if positive else ''}number")
    return float(value)


def ctl_aksk(state, ctx):
    """POST /_sim/aksk {"access","secret","security_token"?,"expires_at"?}; DELETE removes
    the control-added ones; GET lists every credential."""
    if ctx.method == "GET":
        return state.list_aksk()
    if ctx.method == "DELETE":
        return {"ok": True, "removed": state.clear_control_aksk()}
    doc = control_object(ctx)
    unknown = set(doc) - {"access", "secret", "security_token", "expires_at"}
    if unknown:
        raise ControlError(400, f"unknown keys: {sorted(unknown)}")
    access, secret = required_str(doc, "access"), required_str(doc, "secret")
    if not re.fullmatch(r"[^\s,=;]+", access):
        raise ControlError(400, "'access' must not contain spaces, ',', '=' or ';'")
    token = doc.get("security_token")
    if token is not None and (not isinstance(token, str) or not token):
        raise ControlError(400, "'security_token' must be a non-empty string or null")
    state.add_aksk(AkSkCredential(access, secret, "control", token,
                                  optional_number(doc, "expires_at"), time.time()))
    return {"ok": True}


def ctl_metadata(state, ctx):
    """POST /_sim/metadata {"ttl"?, behaviour keys...}; DELETE drops overrides and the TTL."""
    if ctx.method == "DELETE":
        state.configure_metadata(None, None, clear=True)
        return {"ok": True}
    doc = control_object(ctx)
    ttl = optional_number(doc, "ttl", positive=True)
    rest = {k: v for k, v in doc.items() if k != "ttl"}
    behaviour = None
    if rest or "ttl" not in doc:
        try:
            behaviour = Behaviour.from_json(rest)
        except ValueError as exc:
            raise ControlError(400, str(exc)) from None
    state.configure_metadata(ttl, behaviour)
    return {"ok": True}


def ctl_metadata_rotate(state, ctx):
    """POST /_sim/metadata/rotate: a new metadata credential now (the old stays valid)."""
    del ctx
    return {"ok": True, **state.rotate_metadata(time.time()).metadata_json()}


def ctl_rate_limit(state, ctx):
    """POST /_sim/rate-limit {"calls","seconds","per"?}; DELETE turns limiting off."""
    if ctx.method == "DELETE":
        state.rate_limiter.configure(None)
        return {"ok": True}
    doc = control_object(ctx)
    unknown = set(doc) - {"calls", "seconds", "per"}
    if unknown:
        raise ControlError(400, f"unknown keys: {sorted(unknown)}")
    calls = doc.get("calls")
    if isinstance(calls, bool) or not isinstance(calls, int) or calls < 1:
        raise ControlError(400, "'calls' must be an integer >= 1")
    seconds = optional_number(doc, "seconds", positive=True)
    if seconds is None:
        raise ControlError(400, "'seconds' must be a positive number")
    per = doc.get("per", "both")
    if per not in ("user", "ip", "both"):
        raise ControlError(400, "'per' must be \"user\", \"ip\" or \"both\"")
    state.rate_limiter.configure(RateLimit(calls, seconds, per))
    return {"ok": True, "calls": calls, "seconds": seconds, "per": per}


def ctl_clock(state, ctx):
    """POST /_sim/clock {"offset": S}: the simulator's clock runs S seconds ahead."""
    offset = optional_number(control_object(ctx), "offset")
    if offset is None:
        raise ControlError(400, "'offset' must be a number")
    state.set_clock_offset(offset)
    return {"ok": True, "offset": offset}


def ctl_requests(state, ctx):
    """GET /_sim/requests."""
    del ctx
    return state.snapshot_requests()


def ctl_stats(state, ctx):
    """GET /_sim/stats."""
    del ctx
    return state.stats()


def ctl_reset(state, ctx):
    """POST /_sim/reset."""
    del ctx
    state.reset()
    return {"ok": True}


#: (method, path below /_sim/) -> handler(state, ctx) returning a JSON value.
CONTROL_ROUTES = {
    ("POST", "iam"): ctl_iam,
    ("DELETE", "iam"): ctl_iam,
    ("POST", "iam/users"): ctl_iam_users,
    ("POST", "static-tokens"): ctl_static_tokens,
    ("DELETE", "static-tokens"): ctl_static_tokens,
    ("POST", "tokens/expire"): ctl_expire_tokens,
    ("GET", "tokens"): ctl_list_tokens,
    ("POST", "token-ttl"): ctl_token_ttl,
    ("POST", "aksk"): ctl_aksk,
    ("DELETE", "aksk"): ctl_aksk,
    ("GET", "aksk"): ctl_aksk,
    ("POST", "metadata"): ctl_metadata,
    ("DELETE", "metadata"): ctl_metadata,
    ("POST", "metadata/rotate"): ctl_metadata_rotate,
    ("POST", "rate-limit"): ctl_rate_limit,
    ("DELETE", "rate-limit"): ctl_rate_limit,
    ("POST", "clock"): ctl_clock,
    ("GET", "requests"): ctl_requests,
    ("GET", "stats"): ctl_stats,
    ("POST", "reset"): ctl_reset,
}


def handle_control(state: State, ctx: RequestContext) -> Response:
    """Dispatch ``/_sim/...``; always answers JSON."""
    sub = ctx.path[len(CONTROL_PREFIX):]
    try:
        if sub.startswith("project/") and ctx.method in ("POST", "DELETE"):
            project_id = urllib.parse.unquote(sub[len("project/"):])
            if not project_id or "/" in project_id:
                raise ControlError(400, "bad project id")
            return json_response(200, ctl_project(state, ctx, project_id))
        handler = CONTROL_ROUTES.get((ctx.method, sub))
        if handler is None:
            raise ControlError(404, f"no control route {ctx.method} {ctx.path}")
        return json_response(200, handler(state, ctx))
    except ControlError as exc:
        return json_response(exc.status, {"error": str(exc), "request_id": ctx.request_id})


# --------------------------------------------------------------------------------------------
# HTTP plumbing
# --------------------------------------------------------------------------------------------

def record_request(state: State, ctx: RequestContext, status: int, fault: str | None):
    """Log ``ctx`` once, just before the response's first byte (after any delay).

    ``duration_ms`` is therefore the time from reading the request to starting the answer.
    """
    if ctx.logged:
        return
    ctx.logged = True
    state.record({
        "ts": ctx.wall_start, "listener": ctx.listener, "method": ctx.method,
        "path": ctx.path, "query": ctx.query, "headers": ctx.headers,
        "body": ctx.body.decode("utf-8", "replace") if ctx.body or ctx.method == "POST"
        else None,
        "status": status, "project_id": ctx.project_id, "route": ctx.route,
        "duration_ms": round((time.monotonic() - ctx.mono_start) * 1000.0, 3),
        "client_port": ctx.client_port, "request_id": ctx.request_id, "fault": fault,
        "auth": ctx.auth, "access_key": ctx.access_key, "auth_error": ctx.auth_error,
        "canonical_request": ctx.canonical_request, "throttled": ctx.throttled,
        "protocol": ctx.protocol, "tls_resumed": ctx.tls_resumed,
    })


def response_headers(resp: Response, request_id: str, content_length: int | None,
                     now: float) -> list:
    """[(name, value)] of an answer: the defaults, then the configured headers, which replace
    them case-insensitively."""
    headers = {"content-type": ("Content-Type", JSON_CONTENT_TYPE),
               "x-request-id": ("X-Request-Id", request_id),
               "date": ("Date", email.utils.formatdate(now, usegmt=True)),
               "server": ("Server", SimHandler.server_version)}
    if content_length is not None:
        headers["content-length"] = ("Content-Length", str(content_length))
    for name, value in resp.headers.items():
        headers[name.lower()] = (name, str(value))
    return list(headers.values())


class SimHandler(http.server.BaseHTTPRequestHandler):
    """Parses requests, routes them, writes (possibly faulty) responses, logs them."""

    protocol_version = "HTTP/1.1"
    server_version = "hss-sim/1"
    sys_version = ""

    def setup(self):
        """Disable Nagle: responses are one write, but trickle sends single bytes."""
        super().setup()
        try:
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass

    def handle(self):
        """Serve the keep-alive loop; a vanished client just ends it."""
        try:
            super().handle()
        except QUIET_ERRORS:
            self.close_connection = True

    def log_message(self, format, *args):  # noqa: A002 - signature fixed by the base class
        """Silence per-request logging (errors go through log_error)."""

    def log_error(self, format, *args):  # noqa: A002
        """Real errors (malformed requests) go to stderr."""
        sys.stderr.write("hss_sim: %s: %s\n" % (self.address_string(), format % args))

    def send_error(self, code, message=None, explain=None):
        """Protocol-level errors from the base class, answered in JSON with a request id."""
        del explain
        self.log_error("code %d, message %s", code, message)
        self.close_connection = True
        rid = uuid.uuid4().hex
        body = json_bytes({"error_code": f"SIM.{code}", "error_msg": message or
                           status_phrase(code), "request_id": rid})
        try:
            self.wfile.write(self._head(Response(code, body), rid, len(body)) + body)
        except (OSError, ValueError):
            pass

    def do_GET(self):  # noqa: N802
        """GET."""
        self._dispatch()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_GET

    # -- request side ------------------------------------------------------------------------
    def _read_body(self) -> bytes | None:
        """The request body (Content-Length or chunked); None if unreadable."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        length = self.headers.get("Content-Length")
        if not length:
            return b""
        try:
            n = int(length)
        except ValueError:
            n = -1
        if not 0 <= n <= MAX_BODY_BYTES:
            self.send_error(400, "Bad Content-Length")
            return None
        body = self.rfile.read(n)
        if len(body) != n:
            self.close_connection = True
            return None
        return body

    def _read_chunked(self) -> bytes | None:
        """Decode a chunked request body (trailers are skipped)."""
        chunks, total = [], 0
        while True:
            line = self.rfile.readline(1024)
            try:
                size = int(line.split(b";")[0].strip(), 16)
            except ValueError:
                self.send_error(400, "Bad chunk size")
                return None
            if size == 0:
                while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(chunks)
            total += size
            if total > MAX_BODY_BYTES:
                self.send_error(400, "Body too large")
                return None
            chunks.append(self.rfile.read(size))
            self.rfile.readline(1024)

    def _context(self) -> RequestContext | None:
        """Build the RequestContext for the current request (reads the body)."""
        wall, mono = time.time(), time.monotonic()
        body = self._read_body()
        if body is None:
            return None
        split = urllib.parse.urlsplit(self.path)
        headers: dict[str, str] = {}
        for name, value in self.headers.items():
            key = name.lower()
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        return RequestContext(
            method=self.command, raw_path=self.path, path=split.path, raw_query=split.query,
            query=urllib.parse.parse_qs(split.query, keep_blank_values=True),
            headers=headers, body=body, request_id=uuid.uuid4().hex,
            listener=self.server.listener, client_ip=self.client_address[0],
            client_port=self.client_address[1], wall_start=wall, mono_start=mono,
            tls_resumed=getattr(self.connection, "session_reused", None))

    def _dispatch(self):
        """Handle one request: control API or simulated route, then log it."""
        state: State = self.server.state
        ctx = self._context()
        if ctx is None:
            return
        if ctx.path.startswith(CONTROL_PREFIX):
            self._send(handle_control(state, ctx), ctx, None)
            return
        resp = route_request(state, ctx)
        status = 0 if resp.fault in ("hang", "close") else resp.status

        def record():
            self._record(state, ctx, status, resp.fault)

        try:
            self._send(resp, ctx, record)
        finally:
            record()  # no-op unless _send failed before logging

    def _record(self, state: State, ctx: RequestContext, status: int, fault: str | None):
        record_request(state, ctx, status, fault)

    # -- response side -------------------------------------------------------------------------
    def _head(self, resp: Response, request_id: str, content_length: int | None) -> bytes:
        """Status line and headers; configured headers replace defaults case-insensitively."""
        headers = {name.lower(): (name, value) for name, value in
                   response_headers(resp, request_id, content_length, self.server.state.now())}
        conn = headers.get("connection", ("", ""))[1].lower()
        if conn == "close":
            self.close_connection = True
        elif self.close_connection:
            headers["connection"] = ("Connection", "close")
        lines = [f"HTTP/1.1 {resp.status} {status_phrase(resp.status)}\r\n"]
        lines.extend(f"{name}: {value}\r\n" for name, value in headers.values())
        lines.append("\r\n")
        return "".join(lines).encode("latin-1", "replace")

    def _send(self, resp: Response, ctx: RequestContext, record):
        """Write ``resp``, honouring its delay and fault."""
        if resp.delay_ms:
            time.sleep(resp.delay_ms / 1000.0)
        if record is not None:
            record()  # before the first byte, so a client that saw the answer sees the record
        fault, body, rid = resp.fault, resp.body, ctx.request_id
        if resp.status in (204, 304):
            body = b""
        if fault == "hang":
            self.close_connection = True
            self.server.state.stopping.wait()
        elif fault == "close":
            self.close_connection = True
        elif fault == "truncate":
            self.close_connection = True
            self.wfile.write(self._head(resp, rid, len(body) + max(len(body), 16)) + body)
        elif fault == "reset":
            self.close_connection = True
            self.wfile.write(self._head(resp, rid, len(body)) + body[:len(body) // 2])
            time.sleep(RESET_PAUSE_S)
            self._abort()
        elif fault == "trickle":
            self.wfile.write(self._head(resp, rid, len(body)))
            for i in range(len(body)):
                time.sleep(resp.trickle_ms / 1000.0)
                self.wfile.write(body[i:i + 1])
        else:
            length = None if resp.status == 204 else len(body)
            self.wfile.write(self._head(resp, rid, length) + body)

    def _abort(self):
        """Close the connection with an RST (SO_LINGER 0)."""
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       struct.pack("ii", 1, 0))
            self.rfile.close()  # the socket only really closes once its makefile()s are closed
            self.connection.close()
        except OSError:
            pass


class SimServer(http.server.ThreadingHTTPServer):
    """One listener. TLS (if any) is negotiated in the connection's own thread."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple, state: State, listener: str,
                 ssl_context: ssl.SSLContext | None = None):
        self.state = state
        self.listener = listener
        self.ssl_context = ssl_context
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, SimHandler)

    def server_bind(self):
        """Bind without HTTPServer's reverse DNS lookup."""
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def finish_request(self, request, client_address):
        """Wrap in TLS (in this per-connection thread, so a slow handshake blocks no one)."""
        if self.ssl_context is None:
            super().finish_request(request, client_address)
            return
        request.settimeout(TLS_HANDSHAKE_TIMEOUT)
        try:
            tls = self.ssl_context.wrap_socket(request, server_side=True)
        except (OSError, ssl.SSLError):
            return  # handshake refused by the client: expected in TLS fault tests
        try:
            tls.settimeout(None)
            if tls.selected_alpn_protocol() == "h2":
                import sim_h2  # noqa: PLC0415 (python3-h2: only with --http2)
                sim_h2.serve(tls, self, client_address, sys.modules[__name__])
                return
            self.RequestHandlerClass(tls, client_address, self)
        finally:
            try:
                tls.close()
            except OSError:
                pass

    def handle_error(self, request, client_address):
        """Ignore disconnects; report anything else."""
        if isinstance(sys.exc_info()[1], QUIET_ERRORS + (OSError,)):
            return
        super().handle_error(request, client_address)


# --------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------

def make_ssl_context(cert: str, key: str, http2: bool = False) -> ssl.SSLContext:
    """A server TLS context for ``cert``/``key``, advertising HTTP/1.1 (and h2 first if
    ``http2``)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    ctx.set_alpn_protocols(["h2", "http/1.1"] if http2 else ["http/1.1"])
    return ctx


def parse_args(argv):
    """Parse and validate the command line."""
    p = argparse.ArgumentParser(description="Huawei Cloud HSS/IAM simulator (loopback only)")
    p.add_argument("--port-file", required=True, help="write listener ports here as JSON")
    p.add_argument("--bind", default="127.0.0.1", help="loopback address (127.0.0.1 or ::1)")
    p.add_argument("--http-port", type=int, default=0)
    p.add_argument("--https-port", type=int, default=0)
    p.add_argument("--cert", help="server certificate (PEM) for the https listener")
    p.add_argument("--key", help="private key (PEM) for the https listener")
    p.add_argument("--http2", action="store_true",
                   help="the https listener also offers HTTP/2 (ALPN h2; needs python3-h2)")
    p.add_argument("--tls", action="append", default=[], metavar="NAME:CERT:KEY",
                   help="extra HTTPS listener with its own certificate (repeatable)")
    p.add_argument("--log", help="append one JSON line per request to this file")
    p.add_argument("--token-ttl", type=float, default=86400.0, metavar="SECONDS")
    p.add_argument("--iam-user", action="append", default=[], metavar="DOMAIN:USER:PASSWORD")
    p.add_argument("--static-token", action="append", default=[], metavar="TOKEN[:PROJECT_ID]")
    p.add_argument("--aksk", action="append", default=[], metavar="AK:SK",
                   help="permanent AK/SK credential (repeatable; SK may contain ':')")
    p.add_argument("--metadata-ttl", type=float, default=900.0, metavar="SECONDS",
                   help="lifetime of ECS metadata credentials (default 900)")
    p.add_argument("--rate-limit", metavar="CALLS:SECONDS",
                   help="HSS budget per user and per source IP (default: unlimited)")
    args = p.parse_args(argv)
    try:
        if not ipaddress.ip_address(args.bind).is_loopback:
            p.error("--bind must be a loopback address")
    except ValueError:
        p.error("--bind must be an IP address")
    if bool(args.cert) != bool(args.key):
        p.error("--cert and --key go together")
    if args.http2:
        if not args.cert:
            p.error("--http2 needs the https listener (--cert and --key)")
        try:
            import sim_h2  # noqa: F401, PLC0415
        except ImportError as e:
            p.error(f"--http2 needs python3-h2 (apt-get install python3-h2): {e}")
    args.tls_listeners = []
    for spec in args.tls:
        parts = spec.split(":", 2)
        if len(parts) != 3 or not all(parts) or parts[0] in ("http", "https", "pid"):
            p.error(f"bad --tls {spec!r}: want NAME:CERT:KEY, NAME not http/https/pid")
        args.tls_listeners.append(parts)
    for spec in args.iam_user:
        if len(spec.split(":", 2)) != 3 or not all(spec.split(":", 2)):
            p.error(f"bad --iam-user {spec!r}: want DOMAIN:USER:PASSWORD")
    for spec in args.aksk:
        access, _, secret = spec.partition(":")
        if not secret or not re.fullmatch(r"[^\s,=;]+", access):
            p.error(f"bad --aksk {spec!r}: want AK:SK")
    if not (args.metadata_ttl > 0 and math.isfinite(args.metadata_ttl)):
        p.error("--metadata-ttl must be a positive number")
    args.rate_limit_config = None
    if args.rate_limit is not None:
        calls, _, seconds = args.rate_limit.partition(":")
        try:
            args.rate_limit_config = RateLimit(int(calls), float(seconds), "both")
        except ValueError:
            p.error(f"bad --rate-limit {args.rate_limit!r}: want CALLS:SECONDS")
        if args.rate_limit_config.calls < 1 or not (
                0 < args.rate_limit_config.seconds < math.inf):
            p.error("--rate-limit wants CALLS >= 1 and SECONDS > 0")
    return args


def write_port_file(path: str, ports: dict) -> None:
    """Write ``ports`` as JSON atomically (tmp file + rename)."""
    tmp = f"{path}.tmp.{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(ports, f)
        f.write("\n")
    os.replace(tmp, path)


def build_servers(args, state: State) -> list[SimServer]:
    """Bind every listener (http, optional https, extra tls)."""
    servers = [SimServer((args.bind, args.http_port), state, "http")]
    if args.cert:
        servers.append(SimServer((args.bind, args.https_port), state, "https",
                                 make_ssl_context(args.cert, args.key, args.http2)))
    for name, cert, key in args.tls_listeners:
        servers.append(SimServer((args.bind, 0), state, name, make_ssl_context(cert, key)))
    return servers


def main(argv=None) -> int:
    """Run until SIGTERM/SIGINT."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    state = State(args.token_ttl, args.log, args.metadata_ttl, args.rate_limit_config)
    for spec in args.iam_user:
        state.add_user(*spec.split(":", 2))
    for spec in args.static_token:
        token, _, project_id = spec.partition(":")
        state.add_static_token(token, project_id or None)
    for spec in args.aksk:
        access, _, secret = spec.partition(":")
        state.add_aksk(AkSkCredential(access, secret, "cli", issued_at=time.time()))

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())

    servers = build_servers(args, state)
    host = f"[{args.bind}]" if ":" in args.bind else args.bind
    state.redirect_base = f"http://{host}:{servers[0].server_port}"
    for srv in servers:
        threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.2},
                         name=f"serve-{srv.listener}", daemon=True).start()
    ports = {srv.listener: srv.server_port for srv in servers}
    ports["pid"] = os.getpid()
    write_port_file(args.port_file, ports)

    while not stop.wait(0.5):
        pass
    state.stopping.set()
    for srv in servers:
        srv.socket.close()
    state.close()
    try:
        with open(args.port_file, encoding="utf-8") as f:
            if json.load(f).get("pid") == os.getpid():
                os.unlink(args.port_file)
    except (OSError, ValueError):
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
