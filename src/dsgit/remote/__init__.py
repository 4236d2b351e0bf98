"""Open Cloud access: the client, its rate budget and retries, connection from an environment."""
