"""The knowledge base: policy, procedure and service articles with versions, and their retrieval."""
