"""Who may connect to Kafka and what each principal may do: the development CA, credentials and ACLs."""
