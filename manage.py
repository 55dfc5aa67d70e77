#!/usr/bin/env python
import os
import sys


def main():
    # `manage.py test` runs under the suite's settings unless
    # DJANGO_SETTINGS_MODULE or --settings names others.
    testing = sys.argv[1:2] == ["test"]
    os.environ.setdefault(
        "DJANGO_SETTINGS_MODULE", "studio.settings_test" if testing else "studio.settings"
    )
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
