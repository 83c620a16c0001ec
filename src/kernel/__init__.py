"""Freightdesk shared kernel: the mechanics every module uses. It knows no module and not bootstrap.

`kernel.contracts` is the pure part (stdlib + msgspec only): the one piece of the kernel that a module's
public `api.py` and `events.py` may import.
"""
