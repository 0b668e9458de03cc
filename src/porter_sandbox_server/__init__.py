"""A local implementation of the Porter Sandbox API."""
