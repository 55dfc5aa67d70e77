"""Notices that cross apps against the direction of imports.

`accounts` sits below the timetable and never imports it; when it changes
something the public timetable shows (an instructor's name), it sends
`timetable_changed`, and `sessions_app` moves the timetable's cache revision.
Send it inside the write's transaction, after the write's row locks.
"""

from django.dispatch import Signal

timetable_changed = Signal()
