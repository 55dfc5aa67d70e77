"""Django loaded with the environment's settings (DATABASE_URL and the keys, as
bench/load.py passes them), for the bench's scripts that use the ORM: they
import this module before any of the project's. What they make carries the
bench's email domain, so bench/seed.py's next run removes it."""

import os
import sys
from pathlib import Path

import django

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "studio.settings")
django.setup()

DOMAIN = "load.example"
PASSWORD = "bench-Pass-2027"
