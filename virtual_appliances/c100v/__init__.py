"""A vrnetlab-style wrapper for the Cisco C100V virtual appliance (docs/c100v.md).

It boots a user-supplied C100V qcow2 under qemu through a throw-away overlay, drives the day-0 dialogs
on the serial console (CONSOLE.md is the contract with the guest), waits until the CLI answers over
SSH, and writes a testbed for the harness's ``lab`` backend. Like the rest of ``virtual_appliances``
it never imports ``harness``; it needs only the standard library, ``asyncssh`` and ``pyyaml``.
"""
