"""The enterprise registry: stored profiles with history, imports, demo data, re-match runs, plan
progress.
"""
