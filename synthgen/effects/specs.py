"""What every effect is, as plain data: name, family, parameters, severity levels, flags.

This is the effects' declaration, apart from their implementation: the config validates effect
entries against it, ``synthgen effects`` prints it, and each effect class (in the family modules)
names the spec it implements. It imports nothing from synthgen and no image library, so reading
a config never loads OpenCV.

Five severity levels per effect, each a documented range per parameter (in the spirit of
ImageNet-C): "fog 3" is the same distribution in every run.
"""

from __future__ import annotations

from dataclasses import dataclass

Ranges = dict[str, tuple[float, float]]
FAMILIES = ("lighting", "weather", "blur", "camera", "geometric")


@dataclass(frozen=True)
class Param:
    """One named parameter of an effect."""

    lo: float  # hard bounds for any value a user may give
    hi: float
    doc: str
    integer: bool = False


@dataclass(frozen=True, eq=False)
class EffectSpec:
    """One effect as users see it: checked by the config, printed by ``synthgen effects``."""

    name: str
    family: str  # one of FAMILIES
    doc: str
    params: dict[str, Param]
    severities: tuple[Ranges, ...]  # levels 1..5, each a range for every parameter
    geometric: bool = False  # moves pixels: applied to the id map too, labels derived again
    per_object: bool = True  # may be applied to a single pasted object
    seeded: bool = False  # the kernel needs randomness: a recorded `seed` parameter is drawn

    def __post_init__(self) -> None:
        if self.family not in FAMILIES:
            raise ValueError(f"effect {self.name!r}: family {self.family!r} is not one of {FAMILIES}")
        missing = [
            f"severity {i + 1}: {sorted(set(self.params) ^ set(s))}"
            for i, s in enumerate(self.severities)
            if set(s) != set(self.params)
        ]
        if len(self.severities) != 5 or missing:
            raise ValueError(f"effect {self.name!r} needs 5 severity levels covering every parameter: {missing}")


# lighting

BRIGHTNESS = EffectSpec(
    name="brightness",
    family="lighting",
    doc="Multiply every pixel by `factor` (<1 darker, >1 brighter).",
    params={"factor": Param(0.05, 3.0, "multiplier of pixel values")},
    severities=(
        {"factor": (0.85, 0.9)},
        {"factor": (0.7, 0.8)},
        {"factor": (0.55, 0.65)},
        {"factor": (0.4, 0.5)},
        {"factor": (0.25, 0.35)},
    ),
)

CONTRAST = EffectSpec(
    name="contrast",
    family="lighting",
    doc="Scale every pixel's deviation from the image's mean luminance by `factor` (<1 flatter, >1 punchier).",
    params={"factor": Param(0.0, 3.0, "multiplier of deviations from the mean luminance")},
    severities=(
        {"factor": (0.8, 0.86)},
        {"factor": (0.66, 0.72)},
        {"factor": (0.51, 0.58)},
        {"factor": (0.36, 0.43)},
        {"factor": (0.2, 0.27)},
    ),
)

GAMMA = EffectSpec(
    name="gamma",
    family="lighting",
    doc="Gamma curve out = in^gamma on [0, 1]: gamma > 1 darkens the midtones (black and white stay).",
    params={"gamma": Param(0.2, 5.0, "exponent; > 1 darker midtones, < 1 brighter")},
    severities=(
        {"gamma": (1.15, 1.25)},
        {"gamma": (1.4, 1.55)},
        {"gamma": (1.75, 1.95)},
        {"gamma": (2.2, 2.45)},
        {"gamma": (2.8, 3.1)},
    ),
)

COLOR_TEMPERATURE = EffectSpec(
    name="color_temperature",
    family="lighting",
    doc="White-balance cast: warm (orange, `shift` > 0) or cool (blue, `shift` < 0); sampled severities pick the sign at random.",
    params={"shift": Param(-1.0, 1.0, "cast strength and direction: +1 strongly warm, -1 strongly cool")},
    severities=(
        {"shift": (0.1, 0.15)},
        {"shift": (0.22, 0.3)},
        {"shift": (0.37, 0.46)},
        {"shift": (0.54, 0.65)},
        {"shift": (0.75, 0.9)},
    ),
)

LIGHT_GRADIENT = EffectSpec(
    name="light_gradient",
    family="lighting",
    doc="Uneven illumination: light falls off linearly across the frame towards `angle`; the far side is `strength` darker.",
    params={
        "strength": Param(0.0, 1.0, "fraction of light lost at the dark edge"),
        "angle": Param(-180.0, 180.0, "direction towards the dark side in degrees (0 = right, 90 = down)"),
    },
    severities=(
        {"strength": (0.15, 0.2), "angle": (-180, 180)},
        {"strength": (0.28, 0.35), "angle": (-180, 180)},
        {"strength": (0.42, 0.5), "angle": (-180, 180)},
        {"strength": (0.57, 0.65), "angle": (-180, 180)},
        {"strength": (0.72, 0.8), "angle": (-180, 180)},
    ),
)

NIGHT = EffectSpec(
    name="night",
    family="lighting",
    doc="Night or dusk: darker (gamma and exposure), bluish and desaturated, noisy, with a few glowing lights.",
    params={
        "darkness": Param(0.0, 1.0, "0 = unchanged, 1 = deep night"),
        "lights": Param(0, 12, "most glowing light sources; the count is drawn from 0..lights", integer=True),
    },
    severities=(
        {"darkness": (0.15, 0.2), "lights": (4, 4)},
        {"darkness": (0.32, 0.38), "lights": (4, 4)},
        {"darkness": (0.5, 0.56), "lights": (4, 4)},
        {"darkness": (0.67, 0.73), "lights": (4, 4)},
        {"darkness": (0.83, 0.9), "lights": (4, 4)},
    ),
    per_object=False,
)

# weather

FOG = EffectSpec(
    name="fog",
    family="weather",
    doc="Haze that thickens with distance (towards the top of the frame), with patchy density.",
    params={
        "density": Param(0.0, 6.0, "optical density at the far (top) edge"),
        "airlight": Param(0.0, 255.0, "grey level of the fog"),
        "patchiness": Param(0.0, 1.0, "how uneven the fog is"),
    },
    severities=(
        {"density": (0.25, 0.35), "airlight": (190, 215), "patchiness": (0.2, 0.4)},
        {"density": (0.5, 0.65), "airlight": (195, 220), "patchiness": (0.2, 0.4)},
        {"density": (0.9, 1.1), "airlight": (200, 225), "patchiness": (0.2, 0.4)},
        {"density": (1.4, 1.7), "airlight": (205, 230), "patchiness": (0.2, 0.4)},
        {"density": (2.2, 2.6), "airlight": (210, 235), "patchiness": (0.2, 0.4)},
    ),
    per_object=False,
    seeded=True,
)

RAIN = EffectSpec(
    name="rain",
    family="weather",
    doc="Rain: thin bright slanted streaks, a darker wet scene, slight blur and contrast loss.",
    params={
        "density": Param(0.0, 80.0, "streaks per 100x100 pixels"),
        "length": Param(0.01, 0.5, "typical streak length as a fraction of the image height"),
        "angle": Param(-60.0, 60.0, "slant of the streaks from vertical in degrees"),
        "darkening": Param(0.0, 0.8, "how much darker the wet scene gets; blur and contrast loss grow with it"),
    },
    severities=(
        {"density": (1.5, 2.5), "length": (0.06, 0.09), "angle": (-20, 20), "darkening": (0.04, 0.07)},
        {"density": (4.0, 5.0), "length": (0.06, 0.09), "angle": (-20, 20), "darkening": (0.09, 0.12)},
        {"density": (7.0, 9.0), "length": (0.06, 0.09), "angle": (-20, 20), "darkening": (0.14, 0.18)},
        {"density": (11.0, 13.0), "length": (0.06, 0.09), "angle": (-20, 20), "darkening": (0.2, 0.24)},
        {"density": (16.0, 20.0), "length": (0.06, 0.09), "angle": (-20, 20), "darkening": (0.26, 0.3)},
    ),
    per_object=False,
    seeded=True,
)

SNOW = EffectSpec(
    name="snow",
    family="weather",
    doc="Snowfall: small and large soft white flakes, slightly streaked, over a whitening haze.",
    params={
        "density": Param(0.0, 150.0, "flakes per 100x100 pixels"),
        "haze": Param(0.0, 1.0, "whitening of the scene (snow in the air, overcast light)"),
        "angle": Param(-60.0, 60.0, "fall direction from vertical in degrees"),
    },
    severities=(
        {"density": (3.0, 5.0), "haze": (0.04, 0.07), "angle": (-25, 25)},
        {"density": (7.0, 10.0), "haze": (0.1, 0.14), "angle": (-25, 25)},
        {"density": (13.0, 17.0), "haze": (0.17, 0.22), "angle": (-25, 25)},
        {"density": (22.0, 27.0), "haze": (0.25, 0.3), "angle": (-25, 25)},
        {"density": (34.0, 42.0), "haze": (0.34, 0.4), "angle": (-25, 25)},
    ),
    per_object=False,
    seeded=True,
)

SUN_FLARE = EffectSpec(
    name="sun_flare",
    family="weather",
    doc="Sun glare: a bright glow in the upper frame, a veiling haze and faint lens ghosts.",
    params={
        "radius": Param(0.0, 0.6, "radius of the glow core as a fraction of the image diagonal"),
        "intensity": Param(0.0, 1.0, "brightness of the glow, halo and ghosts"),
    },
    severities=(
        {"radius": (0.05, 0.06), "intensity": (0.45, 0.55)},
        {"radius": (0.075, 0.09), "intensity": (0.6, 0.68)},
        {"radius": (0.105, 0.12), "intensity": (0.72, 0.8)},
        {"radius": (0.14, 0.16), "intensity": (0.84, 0.9)},
        {"radius": (0.18, 0.21), "intensity": (0.93, 1.0)},
    ),
    per_object=False,
)

# blur

MOTION_BLUR = EffectSpec(
    name="motion_blur",
    family="blur",
    doc="Camera or object motion: a line blur of `length` pixels at `angle` degrees.",
    params={
        "length": Param(1, 101, "blur length in pixels", integer=True),
        "angle": Param(-180.0, 180.0, "direction in degrees (0 = horizontal)"),
    },
    severities=(
        {"length": (5, 5), "angle": (-180, 180)},
        {"length": (9, 9), "angle": (-180, 180)},
        {"length": (15, 15), "angle": (-180, 180)},
        {"length": (21, 21), "angle": (-180, 180)},
        {"length": (29, 29), "angle": (-180, 180)},
    ),
)

DEFOCUS = EffectSpec(
    name="defocus",
    family="blur",
    doc="Out-of-focus lens blur: a disk (bokeh) kernel of `radius` pixels.",
    params={"radius": Param(0.0, 40.0, "radius of the blur disk in pixels")},
    severities=(
        {"radius": (1.3, 1.7)},
        {"radius": (2.2, 2.8)},
        {"radius": (3.4, 4.2)},
        {"radius": (5.0, 6.0)},
        {"radius": (7.0, 8.5)},
    ),
)

GAUSSIAN_BLUR = EffectSpec(
    name="gaussian_blur",
    family="blur",
    doc="Soft, featureless blur: a gaussian of standard deviation `sigma` pixels.",
    params={"sigma": Param(0.0, 30.0, "gaussian standard deviation in pixels")},
    severities=(
        {"sigma": (0.6, 0.8)},
        {"sigma": (1.1, 1.4)},
        {"sigma": (1.8, 2.2)},
        {"sigma": (2.8, 3.3)},
        {"sigma": (4.2, 5.0)},
    ),
)

# camera

GAUSSIAN_NOISE = EffectSpec(
    name="gaussian_noise",
    family="camera",
    doc="Additive gaussian sensor noise with standard deviation `sigma` (0-255 scale).",
    params={"sigma": Param(0.0, 100.0, "noise standard deviation in grey levels")},
    severities=(
        {"sigma": (3, 4)},
        {"sigma": (6, 7)},
        {"sigma": (10, 11)},
        {"sigma": (15, 16)},
        {"sigma": (22, 24)},
    ),
    seeded=True,
)

ISO_NOISE = EffectSpec(
    name="iso_noise",
    family="camera",
    doc="High-ISO sensor noise: fine luminance grain plus blotchy coloured (chroma) noise.",
    params={
        "amount": Param(0.0, 60.0, "luminance noise standard deviation in grey levels"),
        "chroma": Param(0.0, 4.0, "colour noise strength relative to `amount`"),
    },
    severities=(
        {"amount": (2.5, 3.5), "chroma": (1.0, 1.5)},
        {"amount": (5.0, 6.0), "chroma": (1.0, 1.5)},
        {"amount": (8.0, 9.5), "chroma": (1.0, 1.5)},
        {"amount": (12.0, 14.0), "chroma": (1.0, 1.5)},
        {"amount": (17.0, 20.0), "chroma": (1.0, 1.5)},
    ),
    per_object=False,
    seeded=True,
)

JPEG = EffectSpec(
    name="jpeg",
    family="camera",
    doc="JPEG compression artefacts (blocking, ringing, colour bleeding) at `quality` 1-100.",
    params={"quality": Param(1, 100, "JPEG quality (lower is worse)", integer=True)},
    severities=(
        {"quality": (60, 70)},
        {"quality": (40, 50)},
        {"quality": (25, 32)},
        {"quality": (14, 20)},
        {"quality": (5, 10)},
    ),
    per_object=False,
)

VIGNETTE = EffectSpec(
    name="vignette",
    family="camera",
    doc="Lens vignetting: radial darkening towards the corners, by `strength` at the corners.",
    params={
        "strength": Param(0.0, 1.0, "fraction of light lost in the corners"),
        "falloff": Param(1.0, 6.0, "exponent of the radial falloff (higher keeps more of the centre bright)"),
    },
    severities=(
        {"strength": (0.15, 0.2), "falloff": (2.0, 2.5)},
        {"strength": (0.28, 0.34), "falloff": (2.0, 2.5)},
        {"strength": (0.42, 0.48), "falloff": (2.0, 2.5)},
        {"strength": (0.56, 0.62), "falloff": (2.0, 2.5)},
        {"strength": (0.7, 0.78), "falloff": (2.0, 2.5)},
    ),
    per_object=False,
)

# geometric: labels are derived again from the warped id map

ROTATE = EffectSpec(
    name="rotate",
    family="geometric",
    doc=(
        "Rotate the whole image by `angle` degrees, either way (a random `direction`), "
        "zoomed just enough to leave no empty corners."
    ),
    params={"angle": Param(0.0, 45.0, "size of the rotation in degrees")},
    severities=(
        {"angle": (2, 4)},
        {"angle": (4, 7)},
        {"angle": (7, 10)},
        {"angle": (10, 15)},
        {"angle": (15, 22)},
    ),
    geometric=True,
    per_object=False,
)

PERSPECTIVE = EffectSpec(
    name="perspective",
    family="geometric",
    doc="A camera tilt: a random quadrilateral inside the image is stretched to fill the frame.",
    params={"strength": Param(0.0, 0.3, "largest inward corner shift, as a fraction of the size")},
    severities=(
        {"strength": (0.02, 0.03)},
        {"strength": (0.04, 0.05)},
        {"strength": (0.06, 0.08)},
        {"strength": (0.09, 0.11)},
        {"strength": (0.12, 0.15)},
    ),
    geometric=True,
    per_object=False,
)

CROP_SCALE = EffectSpec(
    name="crop_scale",
    family="geometric",
    doc="Zoom into a random window covering `scale` of each side, resized to the full frame.",
    params={"scale": Param(0.3, 1.0, "window side as a fraction of the frame side")},
    severities=(
        {"scale": (0.9, 0.95)},
        {"scale": (0.8, 0.88)},
        {"scale": (0.7, 0.78)},
        {"scale": (0.6, 0.68)},
        {"scale": (0.5, 0.58)},
    ),
    geometric=True,
    per_object=False,
)


def _by_name(*specs: EffectSpec) -> dict[str, EffectSpec]:
    out: dict[str, EffectSpec] = {}
    for s in specs:
        if s.name in out:
            raise ValueError(f"effect {s.name!r} is declared twice")
        out[s.name] = s
    return out


SPECS: dict[str, EffectSpec] = _by_name(
    BRIGHTNESS,
    CONTRAST,
    GAMMA,
    COLOR_TEMPERATURE,
    LIGHT_GRADIENT,
    NIGHT,
    FOG,
    RAIN,
    SNOW,
    SUN_FLARE,
    MOTION_BLUR,
    DEFOCUS,
    GAUSSIAN_BLUR,
    GAUSSIAN_NOISE,
    ISO_NOISE,
    JPEG,
    VIGNETTE,
    ROTATE,
    PERSPECTIVE,
    CROP_SCALE,
)
