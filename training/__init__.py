"""lfm3d training: the PyTorch 3D-LFM model, data sources, training, evaluation, export."""
