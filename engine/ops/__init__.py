"""The operations centre: live alert feed, cases and outcomes, for officers and supervisors."""
