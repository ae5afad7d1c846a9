"""Believable demo data: `flask --app wsgi demo`."""
