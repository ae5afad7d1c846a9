"""`flask surveys validate`: check survey YAML files without a server, like `flask checklists validate`."""
from flask.cli import AppGroup

from app.surveydefs.loader import SURVEYS
from app.yamldoc.cli import validate_command

surveys_cli = AppGroup("surveys", help="Validate the customer-survey YAML files.")
surveys_cli.add_command(validate_command(SURVEYS, "SURVEYS_DIR"))
