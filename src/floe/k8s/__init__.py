"""Kubernetes deployment helpers: offline Helm rendering and Helm release decisions."""
