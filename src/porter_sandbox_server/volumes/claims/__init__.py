"""The PersistentVolumeClaim volume backend (the kubernetes runtime's): a claim per volume, files served by a helper pod.

``backend`` (``ClaimVolumes``) runs in the server; ``agent`` runs in the helper
pods and imports only the host-directory path code, so this package imports
nothing itself: the agent starts fast, without the Kubernetes client.
"""
