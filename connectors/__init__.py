"""One connector per agency: consume the agency's request topic, call its registry over HTTP,
publish normalised responses, dead-letter what can never succeed.

``base`` holds what every connector shares (adapter contract, error classification, retries, the
Kafka loop); each agency module holds only what differs: endpoints, auth, field mapping.
"""
