"""The demo city: a small built-in one, or Boston's real 2011 data when it is available."""
