"""_expiry.py - Set's `expires` argument into SetRequest's expiry oneof
(ttl_ms: relative, expire_at_ms: absolute Unix ms, UTC; 0/unset: never)."""

import datetime
import math
import numbers

_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
_MS = datetime.timedelta(milliseconds=1)
_UINT64_MAX = 2**64 - 1


def expiry_fields(expires):
    """{} (never), {"ttl_ms": n} or {"expire_at_ms": n} for expires:
    None or 0 -> never; int/float seconds from now (> 0, rounded up to
    whole ms so a tiny positive value never means "never"); timedelta ->
    relative (<= 0: already expired); datetime -> absolute (naive = UTC,
    aware converted; in the past: the server removes the entry and stores
    nothing). Negative numbers are a ValueError, other types TypeError."""
    if expires is None:
        return {}
    if isinstance(expires, datetime.datetime):
        if expires.tzinfo is None or expires.utcoffset() is None:
            expires = expires.replace(tzinfo=datetime.timezone.utc)
        ms = (expires - _EPOCH) // _MS
        return {"expire_at_ms": _bounded(max(ms, 1))}  # 0 would mean never
    if isinstance(expires, datetime.timedelta):
        if expires <= datetime.timedelta(0):
            return {"expire_at_ms": 1}  # long past: already expired
        return {"ttl_ms": _bounded(-(-expires // _MS))}  # ceil
    if isinstance(expires, bool) or not isinstance(expires, numbers.Real):
        raise TypeError("expires must be None, seconds, a datetime or a "
                        "timedelta, not %s" % type(expires).__name__)
    if math.isnan(expires) or math.isinf(expires) or expires < 0:
        raise ValueError("expires must be finite and not negative (got %r)"
                         % (expires,))
    if expires == 0:
        return {}
    return {"ttl_ms": _bounded(math.ceil(expires * 1000))}


def _bounded(ms):
    if ms > _UINT64_MAX:
        raise ValueError("expires is too far in the future")
    return int(ms)
