"""safeguard: a safeguarding record keeper for schools.

The domain and its storage live here; this package never imports Typer and never prints.
"""

__version__ = "0.1.0"
