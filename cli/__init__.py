"""The command-line layer of safeguard (installed as `safeguard_cli`): parse, call, render."""
