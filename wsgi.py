from portal import create_app
from portal.config import exit_on_config_error

with exit_on_config_error():
    app = create_app()
