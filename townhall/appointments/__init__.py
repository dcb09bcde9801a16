"""Appointments: slots per office and staff member, booking by residents, prepared caseworkers.

See docs/appointments.md.
"""
