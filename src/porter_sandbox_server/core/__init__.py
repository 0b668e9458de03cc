"""The API's rules, below HTTP and above the store, runtimes and volumes: ``service`` and what it uses."""
