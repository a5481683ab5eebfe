"""The AllTick protocol, pure: codec, frames, HTTP records, endpoint paths, plan table.

One source of truth for the client (``feed.connection``, ``feed.http``) and the
simulator (``feed.sim``): both speak through these modules, so they cannot drift
apart. Nothing here owns state or touches a socket or a clock.
"""
