"""Running Townhall in production: readiness, metrics, backups, the faces operators use."""
