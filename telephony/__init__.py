"""The Asterisk edge: provisioning, configuration, ARI client, queues, agents and call records."""
