from bootstrap.migration_env import run

run()
