# ParaView Python state: the default `spinesim render` view of a run directory.
#
#   pvpython viz/paraview_state.py runs/demo            # or, in the ParaView GUI:
#   File > Load State... > viz/paraview_state.py  (then choose the run directory;
#   or set SPINESIM_RUN_DIR before starting ParaView)
#
# Loads RUN_DIR/mesh.vtp (membrane, coloured by region_id with the same colours and
# opacities as the renderer: PSD dark red and opaque, perisynaptic orange, head /
# neck / shaft semi-transparent blue-greys) and RUN_DIR/frames.pvd (the molecules as
# one time series, glyphed as spheres scaled by their species' display radius and
# coloured by the `species` array), looks along -z with a parallel projection like
# `--camera side`, and shows the time. Tested against ParaView 5.10/5.11 (VTK 9.1).
import os
import sys

from paraview.simple import (  # noqa: F401 (GetAnimationScene used below)
    AnnotateTimeFilter, Calculator, GetActiveViewOrCreate, GetAnimationScene, GetColorTransferFunction,
    GetOpacityTransferFunction, Glyph, OpenDataFile, Render, Show)

# Same table as viz/palette.cpp (region name -> colour, opacity).
REGION_STYLE = {
    "psd": ((0.800, 0.080, 0.080), 1.00),
    "perisynaptic": ((1.000, 0.700, 0.350), 0.70),
    "head": ((0.620, 0.720, 0.900), 0.30),
    "neck": ((0.560, 0.780, 0.820), 0.35),
    "shaft": ((0.720, 0.740, 0.820), 0.30),
    "shaft_end": ((0.550, 0.550, 0.580), 0.40),
    "bouton": ((0.600, 0.860, 0.600), 0.25),
    "bouton_face": ((0.600, 0.860, 0.600), 0.25),
    "cleft_rim": ((0.800, 0.800, 0.900), 0.10),
    "er": ((0.950, 0.900, 0.500), 0.45),
}
SPECIES_PALETTE = [
    (0.122, 0.467, 0.706), (1.000, 0.498, 0.055), (0.173, 0.627, 0.173), (0.580, 0.404, 0.741),
    (0.090, 0.745, 0.812), (0.890, 0.467, 0.761), (0.737, 0.741, 0.133), (0.549, 0.337, 0.294),
    (0.498, 0.498, 0.498),
]


def field_strings(source, name):
    """String field-data array `name` of a reader's output (empty when absent)."""
    from paraview import servermanager
    data = servermanager.Fetch(source)
    if hasattr(data, "GetBlock"):  # a multiblock from the .pvd reader
        data = data.GetBlock(0)
    arr = data.GetFieldData().GetAbstractArray(name) if data is not None else None
    return [arr.GetValue(i) for i in range(arr.GetNumberOfValues())] if arr is not None else []


def field_doubles(source, name):
    from paraview import servermanager
    data = servermanager.Fetch(source)
    if hasattr(data, "GetBlock"):
        data = data.GetBlock(0)
    arr = data.GetFieldData().GetArray(name) if data is not None else None
    return [arr.GetValue(i) for i in range(arr.GetNumberOfTuples())] if arr is not None else []


def categorical_lut(lut, colours_by_index, opacities=None):
    lut.InterpretValuesAsCategories = 1
    lut.Annotations = sum(([str(i), str(i)] for i in range(len(colours_by_index))), [])
    lut.IndexedColors = [c for rgb in colours_by_index for c in rgb]
    if opacities is not None:
        lut.EnableOpacityMapping = 1
        lut.IndexedOpacities = list(opacities)


def load(run_dir):
    view = GetActiveViewOrCreate("RenderView")
    view.Background = [1, 1, 1]
    view.OrientationAxesVisibility = 0
    try:
        view.UseColorPaletteForBackground = 0
    except AttributeError:
        pass

    mesh = OpenDataFile(os.path.join(run_dir, "mesh.vtp"))
    regions = field_strings(mesh, "region_names")
    mesh_display = Show(mesh, view)
    mesh_display.ColorArrayName = ["CELLS", "region_id"]
    region_lut = GetColorTransferFunction("region_id")
    styles = [REGION_STYLE.get(name, ((0.7, 0.7, 0.8), 0.35)) for name in regions]
    categorical_lut(region_lut, [s[0] for s in styles])
    mesh_display.LookupTable = region_lut
    # Per-region opacity needs ParaView >= 5.10's "opacity by cell scalars"; else one opacity.
    try:
        mesh_display.Opacity = 1.0
        mesh_display.MapScalars = 1
        region_lut.EnableOpacityMapping = 1
        otf = GetOpacityTransferFunction("region_id")
        otf.Points = sum(([float(i), s[1], 0.5, 0.0] for i, s in enumerate(styles)), [])
        mesh_display.OpacityArray = ["CELLS", "region_id"]
    except AttributeError:
        mesh_display.Opacity = 0.4

    frames = OpenDataFile(os.path.join(run_dir, "frames.pvd"))
    radii = field_doubles(frames, "species_display_radius_um")
    species = field_strings(frames, "species_names")
    # Per-molecule radius from the per-species table (default 0.006 µm). The
    # Calculator has no ternary operator: the radius is a sum of masks.
    expr = "0.006"
    if radii:
        expr = " + ".join("%g*(species == %d)" % (r, i) for i, r in enumerate(radii))
    radius = Calculator(Input=frames, AttributeType="Point Data", ResultArrayName="display_radius", Function=expr)
    glyph = Glyph(Input=radius, GlyphType="Sphere")
    glyph.ScaleArray = ["POINTS", "display_radius"]
    glyph.ScaleFactor = 2.0  # the sphere source has radius 0.5
    glyph.GlyphMode = "All Points"
    glyph.GlyphType.ThetaResolution = 16
    glyph.GlyphType.PhiResolution = 10
    glyph_display = Show(glyph, view)
    glyph_display.ColorArrayName = ["POINTS", "species"]
    species_lut = GetColorTransferFunction("species")
    categorical_lut(species_lut, [SPECIES_PALETTE[i % len(SPECIES_PALETTE)] for i in range(max(1, len(species)))])
    species_lut.Annotations = sum(([str(i), name] for i, name in enumerate(species)), [])
    glyph_display.LookupTable = species_lut
    glyph_display.SetScalarBarVisibility(view, True)

    time_label = AnnotateTimeFilter(Input=frames)
    time_label.Scale = 1000.0  # s -> ms
    # ParaView >= 5.11 takes a Python format, older versions a printf one.
    time_label.Format = "t = {time:.3f} ms" if "{" in str(time_label.Format) else "t = %.3f ms"
    try:
        Show(time_label, view).WindowLocation = "Upper Right Corner"
    except AttributeError:
        Show(time_label, view)

    GetAnimationScene().UpdateAnimationUsingDataTimeSteps()
    view.CameraParallelProjection = 1
    view.ResetCamera()
    cam = view.GetActiveCamera()
    fp = cam.GetFocalPoint()
    cam.SetPosition(fp[0], fp[1], fp[2] + 10.0)
    cam.SetViewUp(0, 1, 0)
    view.ResetCamera()
    Render(view)
    return view


run = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("SPINESIM_RUN_DIR", "runs/spine_glutamate")
if not os.path.isfile(os.path.join(run, "mesh.vtp")):
    raise SystemExit("paraview_state.py: %s has no mesh.vtp; pass a run directory written by `spinesim run`" % run)
load(run)
