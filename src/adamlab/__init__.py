"""adamlab: the optimizers of Kingma & Ba (2015), written to be read."""
