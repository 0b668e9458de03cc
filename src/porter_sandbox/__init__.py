"""Python SDK for the Porter Sandbox API."""
