"""Message and API models, identifiers, topic names and the Kafka codec. Depends on nothing else here."""
