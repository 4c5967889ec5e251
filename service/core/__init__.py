"""The platform underneath: settings, the database and its tables, migrations, errors, logs,
languages.
"""
