"""The model panels of the editor (AR-CNN, and later the transformer and the GAN) and the takes
they produce."""
