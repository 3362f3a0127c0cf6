"""Training data: 3D pose sources (real loaders, synthetic generators), views, mixtures.

Every source is a `base.PoseSource` giving `(M, N, 3)` float32 3D poses of one rig in a
y-up world frame; `views.render_views` turns them into model inputs on the device;
`mixture.PoseMixture` draws weighted batches; `registry` names sources and held-out sets.
"""
