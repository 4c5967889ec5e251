"""This host's own addresses, so that a push target cannot name the service's own machine.

Loopback is refused by range; the host's other addresses (10.x on the government network,
say) are private and would otherwise be allowed, letting a subscriber probe the host's own
ports through the attempt log. On Linux they are read from the kernel: IPv6 from
/proc/net/if_inet6, IPv4 with the SIOCGIFADDR ioctl on each interface. Read at most once a
minute; elsewhere (no /proc, no ioctl) the set is empty and the range rules still apply.
"""

import fcntl
import ipaddress
import socket
import struct
import threading
import time
from contextlib import suppress
from pathlib import Path

SIOCGIFADDR = 0x8915
REFRESH_SECONDS = 60.0
IF_INET6 = Path("/proc/net/if_inet6")

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

_lock = threading.Lock()
_cached: tuple[float, frozenset[Address]] = (0.0, frozenset())


def ipv6_addresses(text: str) -> set[Address]:
    """The addresses in the text of /proc/net/if_inet6 (32 hex digits first on each line)."""
    found: set[Address] = set()
    for line in text.splitlines():
        digits = line.split()[0] if line.strip() else ""
        if len(digits) == 32:
            found.add(ipaddress.IPv6Address(bytes.fromhex(digits)))
    return found


def ipv4_addresses() -> set[Address]:
    """The IPv4 address of each interface that has one (SIOCGIFADDR)."""
    found: set[Address] = set()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        for _, name in socket.if_nameindex():
            request = struct.pack("256s", name.encode()[:15])
            try:
                answer = fcntl.ioctl(probe.fileno(), SIOCGIFADDR, request)
            except OSError:  # no IPv4 address on this interface
                continue
            found.add(ipaddress.IPv4Address(answer[20:24]))
    return found


def read_local_addresses() -> frozenset[Address]:
    """This host's interface addresses, as the kernel lists them now."""
    found: set[Address] = set()
    with suppress(OSError, AttributeError):  # no ioctl, no if_nameindex: not Linux
        found |= ipv4_addresses()
    with suppress(OSError):  # no /proc, or IPv6 is off
        found |= ipv6_addresses(IF_INET6.read_text())
    return frozenset(found)


def local_addresses() -> frozenset[Address]:
    """This host's addresses, read again when the last reading is a minute old."""
    global _cached
    with _lock:
        if _cached[0] <= time.monotonic():
            _cached = (time.monotonic() + REFRESH_SECONDS, read_local_addresses())
        return _cached[1]
