"""Conformance suite: WeCom's published samples and the SDKs' fixtures, run through our protocol library."""
