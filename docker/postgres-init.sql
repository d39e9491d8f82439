-- The bot engine's own database beside Temporal's, on the same server.
CREATE USER botengine WITH PASSWORD 'botengine';
CREATE DATABASE botengine OWNER botengine;
