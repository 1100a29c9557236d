"""Placeholder replaced by the conversation module."""


def run(args) -> int:
    print("voldoctor: the conversation is not built yet; use 'voldoctor diagnose TEXT'")
    return 2
