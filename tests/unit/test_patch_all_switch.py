"""CI's patch_all run really runs the suite under ``gevent.monkey.patch_all()``.

.ci/run runs the suite a second time as
``GNET_TEST_PATCH_ALL=1 python -m gevent.monkey --module pytest``: gevent's
launcher patches the standard library before pytest starts, so before
conftest.py imports gnet and before any test module is imported. The
variable only tells this test which of the two runs it is in. Without it
nothing may be patched, so the ordinary runs really test gnet unpatched.
"""

from __future__ import annotations

import os
import socket
import time
from socket import socket as socket_at_import
from time import sleep as sleep_at_import

import gevent
import gevent.socket
from gevent import monkey

PATCH_ALL = os.environ.get("GNET_TEST_PATCH_ALL") == "1"


def test_patch_all_switch_matches_the_process() -> None:
    if PATCH_ALL:
        for module in ("socket", "select", "time", "threading", "ssl", "subprocess", "os"):
            assert monkey.is_module_patched(module), module
        # Names this module took with ``from ... import`` while it was being
        # imported are gevent's: the patching came first.
        assert socket_at_import is gevent.socket.socket
        assert sleep_at_import is gevent.sleep
        assert socket.socket is gevent.socket.socket
    else:
        assert not monkey.is_anything_patched(), (
            "the standard library is patched, but GNET_TEST_PATCH_ALL is not set"
        )
        assert sleep_at_import is time.sleep and time.sleep is not gevent.sleep
