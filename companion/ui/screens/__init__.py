"""Modal screens: the persona picker, settings, and confirmations."""
