# noiseprotocol ships no type information and PyPI has no stubs for it: the
# part of its API that the fake ESPHome device uses (noise/connection.pyi).
