# Shared fixtures for every test folder (tests/ and each app's tests/).
pytest_plugins = ["tests.fixtures"]
