"""Igloo's Zigbee provider: zigpy (zigpy-znp, bellows, zigpy-deconz) on the
coordinator stick the core grants. Run it as `python3 -m igloo_zigbee`.
See docs/zigbee.md."""

__version__ = "0.1.0"
