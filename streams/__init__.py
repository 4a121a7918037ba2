"""The stream processors (faust-streaming) and the identity-linkage engine they call."""
