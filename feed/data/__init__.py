"""Package data: the cross-listed pair file (cross_listings.csv), read by feed.premium.

Thread ownership: none; immutable data files.
"""
