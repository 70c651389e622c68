"""Analytics for What Works: pure Python (numpy, polars), never imports Django.

The Django apps hand frames to this package and store what it returns.
"""
