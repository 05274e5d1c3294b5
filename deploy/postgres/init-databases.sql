-- Run once by the postgres image on an empty data directory
-- (mounted into /docker-entrypoint-initdb.d by docker-compose.yml).
-- One database per service; each service applies its own migrations at start.
CREATE DATABASE portal_customers;
CREATE DATABASE portal_subscriptions;
CREATE DATABASE portal_billing;
CREATE DATABASE portal_notifications;
CREATE DATABASE portal_gateway;
