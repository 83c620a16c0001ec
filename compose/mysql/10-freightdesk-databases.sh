# Freightdesk databases and their users, for the official MySQL image (8.x): mounted into
# /docker-entrypoint-initdb.d/, which the image's entrypoint sources once, when the data directory is empty.
#
# FREIGHTDESK_DATABASES lists what this server holds, as `database=name` pairs separated by spaces:
#
#   FREIGHTDESK_DATABASES="shared_user_db=identity customer_service_db=customer"
#
# For each pair it creates the database (utf8mb4, utf8mb4_unicode_ci) and one user `freightdesk_<name>` with
# all privileges on that database and no other, whose password is FREIGHTDESK_<NAME>_DB_PASSWORD (e.g.
# FREIGHTDESK_IDENTITY_DB_PASSWORD). A missing, short or ill-formed password stops the initialisation: there is
# no default. Passwords go into SQL and into database URLs unescaped, so they are kept to URL-safe characters.
#
# Only the first start of an empty data directory runs this; to change a password later, ALTER USER on the
# server and change the setting together. (.ci/run provisions its own server from compose/mysql-init.sql.)

freightdesk_fail() {
  echo "10-freightdesk-databases.sh: $*" >&2
  exit 1
}

freightdesk_create_databases() {
  local pair database name variable password
  [ -n "${FREIGHTDESK_DATABASES:-}" ] || freightdesk_fail "FREIGHTDESK_DATABASES is not set"
  for pair in ${FREIGHTDESK_DATABASES}; do
    database="${pair%%=*}"
    name="${pair#*=}"
    [[ "$pair" == *=* && "$database" =~ ^[a-z0-9_]+$ && "$name" =~ ^[a-z0-9_]+$ ]] \
      || freightdesk_fail "FREIGHTDESK_DATABASES: expected database=name pairs, got '$pair'"
    variable="FREIGHTDESK_${name^^}_DB_PASSWORD"
    password="${!variable:-}"
    [ -n "$password" ] || freightdesk_fail "$variable is not set"
    [[ "$password" =~ ^[A-Za-z0-9._~-]{16,}$ ]] \
      || freightdesk_fail "$variable: use at least 16 characters out of letters, digits and . _ ~ -"
    echo "10-freightdesk-databases.sh: database $database, user freightdesk_$name"
    docker_process_sql --database=mysql <<SQL
CREATE DATABASE IF NOT EXISTS \`$database\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE USER IF NOT EXISTS 'freightdesk_$name'@'%' IDENTIFIED BY '$password';
GRANT ALL PRIVILEGES ON \`$database\`.* TO 'freightdesk_$name'@'%';
SQL
  done
}

freightdesk_create_databases
