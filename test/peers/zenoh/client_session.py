"""A Zenoh session in client mode on one router, with scouting off (tests use only loopback)."""

import json

import zenoh


def open_client(router: str) -> zenoh.Session:
    config = zenoh.Config.from_json5(
        json.dumps(
            {
                "mode": "client",
                "connect": {"endpoints": [router]},
                "scouting": {"multicast": {"enabled": False}, "gossip": {"enabled": False}},
            }
        )
    )
    return zenoh.open(config)
