-- Freightdesk databases, one application user and its grants, for a development or CI server: .ci/run pipes
-- it to `mariadb -uroot`, and the README's "Pointing it at MySQL and Redis" does the same by hand.
-- Safe to run again. The password below is the documented local default; production mode refuses it.
-- .ci/run replaces it when FREIGHTDESK_DB_PASSWORD is set. The compose stacks create their databases with
-- compose/mysql/10-freightdesk-databases.sh instead: one user per database, passwords from the environment.

-- The hybrid split (docs: architecture §3): auth and user share one database, each business module has its own.
CREATE DATABASE IF NOT EXISTS `shared_user_db` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE DATABASE IF NOT EXISTS `customer_service_db` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE DATABASE IF NOT EXISTS `carrier_service_db` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE DATABASE IF NOT EXISTS `pricing_service_db` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE USER IF NOT EXISTS 'freightdesk'@'%' IDENTIFIED BY 'freightdesk';
-- Keep the password in step when the user already existed with another one.
ALTER USER 'freightdesk'@'%' IDENTIFIED BY 'freightdesk';

GRANT ALL PRIVILEGES ON `shared_user_db`.* TO 'freightdesk'@'%';
GRANT ALL PRIVILEGES ON `customer_service_db`.* TO 'freightdesk'@'%';
GRANT ALL PRIVILEGES ON `carrier_service_db`.* TO 'freightdesk'@'%';
GRANT ALL PRIVILEGES ON `pricing_service_db`.* TO 'freightdesk'@'%';
-- The test suite drops and creates its own databases, all named fdtest_<run id>_<name>.
GRANT ALL PRIVILEGES ON `fdtest\_%`.* TO 'freightdesk'@'%';

FLUSH PRIVILEGES;
