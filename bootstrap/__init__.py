"""Composition root: builds the process from the enabled modules' descriptors. Modules never import it."""
