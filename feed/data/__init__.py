"""Package data: the cross-listed pair file (cross_listings.csv), read by feed.premium."""
