"""The demo and development settings: ``make demo`` uses these."""

from .base import *  # noqa: F403

DEBUG = env.bool("DEBUG", default=True)  # noqa: F405
