"""Conditions: lighting, weather, blur, camera and geometric effects at controlled severity.

- ``specs``: what each effect is (name, family, parameters, severity levels) as plain data;
  the config validates against it without loading any image library.
- ``functional``: the pixel kernels, pure functions of arrays and numbers.
- ``base``, ``lighting``, ``weather``, ``blur``, ``camera``, ``geometric``: one class per
  spec that samples its parameters and applies them to a :class:`synthgen.frame.Frame`;
  ``registry`` maps names to them.
- ``pipeline``: sampling every configured effect of an image, and applying them in turn.
- ``albu``: a user's own albumentations pipeline, the only module that imports albumentations.
- ``reference``: the human-readable reference (``synthgen effects``).
"""
