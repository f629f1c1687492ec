"""Importing a city's own 311 history from the export of the system it is leaving.

One module per export format maps the city's columns to a `CityRow` (rows.py); the driver
(driver.py) streams the file, matches or creates departments and service types by name
through the org and catalogue verbs (catalogue.py), and stores each batch in one transaction
through the requests feature's bulk importer (app.requests.importer).
"""
