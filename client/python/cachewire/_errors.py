"""_errors.py - cachewire.Status (gRPC's status codes, as rpc.proto's Code)
and cachewire.Error, the one exception every failed call raises."""

import enum


class Status(enum.IntEnum):
    OK = 0
    CANCELLED = 1
    UNKNOWN = 2
    INVALID_ARGUMENT = 3
    DEADLINE_EXCEEDED = 4
    NOT_FOUND = 5
    ALREADY_EXISTS = 6
    PERMISSION_DENIED = 7
    RESOURCE_EXHAUSTED = 8
    FAILED_PRECONDITION = 9
    ABORTED = 10
    OUT_OF_RANGE = 11
    UNIMPLEMENTED = 12
    INTERNAL = 13
    UNAVAILABLE = 14
    DATA_LOSS = 15
    UNAUTHENTICATED = 16


class Error(Exception):
    """A call failed: .code (int, gRPC number), .status (its name, e.g.
    "INVALID_ARGUMENT") and .message (the server's text, or the client's
    for transport failures). str(e) is "STATUS: message"."""

    def __init__(self, code, message):
        try:
            code = Status(code)
        except ValueError:  # a number this client does not know
            code = Status.UNKNOWN
        self.code = int(code)
        self.status = code.name
        self.message = message
        super().__init__("%s: %s" % (self.status, message))
