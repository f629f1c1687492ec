"""flask users …"""

import click

users_cli = click.Group("users", help="Manage staff accounts.")
