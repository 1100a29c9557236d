"""voldoctor: a troubleshooting assistant for Docker volumes and persistence."""

__version__ = "0.1.0"
