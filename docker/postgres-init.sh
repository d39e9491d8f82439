#!/bin/sh
# The bot engine's own database user and database beside Temporal's, created by the postgres image
# on the first start of an empty data volume (docker-entrypoint-initdb.d). The password comes from
# the environment; psql quotes it (:'password'), so any character is safe in it.
set -e
: "${BOT_ENGINE_DB_PASSWORD:?set BOT_ENGINE_DB_PASSWORD}"
psql -v ON_ERROR_STOP=1 -v user="${BOT_ENGINE_DB_USER:-botengine}" -v password="$BOT_ENGINE_DB_PASSWORD" \
  --username "$POSTGRES_USER" --dbname postgres <<'SQL'
CREATE USER :"user" WITH PASSWORD :'password';
CREATE DATABASE :"user" OWNER :"user";
SQL
