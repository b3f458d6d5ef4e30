using System;
using System.Collections.Generic;
using System.Linq;
using GraphGen.Generator.Helpers;
using GraphGen.Generator.Layers;
using GraphGen.Generator.Model;
using GraphGen.Generator.Vocabulary;
using Microsoft.CodeAnalysis;

namespace GraphGen.Generator.Parsing;

/// <summary>A layer attribute's arguments as written, before shapes are known.</summary>
internal sealed record LayerSpec(
    LayerKind Kind, int Outputs, int Kernel, bool HasKernel, int Stride, int Padding,
    int Features, double Epsilon, double Momentum, Marker Marker = Marker.None, double Slope = 0, double Rate = 0)
{
    /// <summary>A convolution's per-axis arguments as written (null where not given); <see cref="Kernel"/>,
    /// <see cref="Stride"/> and <see cref="Padding"/> are the square ones.</summary>
    public int? KernelHeight { get; init; }
    /// <inheritdoc cref="KernelHeight"/>
    public int? KernelWidth { get; init; }
    /// <inheritdoc cref="KernelHeight"/>
    public int? StrideHeight { get; init; }
    /// <inheritdoc cref="KernelHeight"/>
    public int? StrideWidth { get; init; }
    /// <inheritdoc cref="KernelHeight"/>
    public int? PaddingHeight { get; init; }
    /// <inheritdoc cref="KernelHeight"/>
    public int? PaddingWidth { get; init; }
    /// <summary>Whether the square Stride and Padding were written (their defaults do not conflict).</summary>
    public bool HasStride { get; init; }
    /// <inheritdoc cref="HasStride"/>
    public bool HasPadding { get; init; }
    /// <summary>A convolution's channel groups (1 unless given).</summary>
    public int Groups { get; init; } = 1;

    /// <summary>The window per axis: the per-axis arguments where given, else the square one (pools are square).</summary>
    public (int Height, int Width) Kernels => (KernelHeight ?? Kernel, KernelWidth ?? Kernel);
    /// <summary>The step per axis; a per-axis stride not given is 1.</summary>
    public (int Height, int Width) Strides => StrideHeight is null && StrideWidth is null ? (Stride, Stride) : (StrideHeight ?? 1, StrideWidth ?? 1);
    /// <summary>The padding per axis as written (<see cref="Vocabulary.Conv2DAttribute.Same"/> included); a per-axis padding not given is 0.</summary>
    public (int Height, int Width) Paddings => PaddingHeight is null && PaddingWidth is null ? (Padding, Padding) : (PaddingHeight ?? 0, PaddingWidth ?? 0);

    /// <summary>A block marker that makes no layer of its own ([Residual], [Shortcut]).</summary>
    public bool IsPureMarker => Marker is Marker.Residual or Marker.Shortcut or Marker.Concat or Marker.Branch;
}

/// <summary>The block markers of the attribute language. [EndResidual] makes the block's Add layer,
/// [EndConcat] its Concat layer.</summary>
internal enum Marker { None, Residual, Shortcut, EndResidual, Concat, Branch, EndConcat }

/// <summary>The [Network] attribute's arguments (null where not given).</summary>
internal sealed record InputSpec(int? Channels, int? Height, int? Width, int? Features);

/// <summary>A problem found by <see cref="ShapeInference"/>: the layer index (−1 for [Network]) and,
/// when one argument is at fault, its name, so the parser can point at that argument.</summary>
internal sealed record ShapeDiagnostic(int Layer, string? Argument, DiagnosticDescriptor Descriptor, object[] Arguments);

/// <summary>
/// Shape inference: walks the layers in order, checks each one's arguments against the shape that
/// reaches it, and computes the shape it produces. Pure: no Roslyn symbols, so it is tested directly
/// and the parser only maps its findings to source locations.
/// </summary>
internal static class ShapeInference
{
    /// <summary>Largest network the generator accepts: 100 M parameters (400 MB of weights).</summary>
    public const long MaxParameters = 100_000_000;

    /// <summary>Largest tensor per sample: 16 M floats (64 MB per sample, per buffer).</summary>
    public const long MaxFloatsPerSample = 16_777_216;

    public static string Describe(LayerKind kind, string name) => Inv($"{name} [{kind}]");

    private static string Describe(LayerSpec spec, string name) =>
        spec.Marker switch
        {
            Marker.EndResidual => Inv($"{name} [EndResidual]"),
            Marker.EndConcat => Inv($"{name} [EndConcat]"),
            _ => Describe(spec.Kind, name),
        };

    /// <summary>A window layer's geometry once resolved: kernel, stride and padding per axis, and channel groups.</summary>
    private readonly record struct Window(int KernelHeight, int KernelWidth, int StrideHeight, int StrideWidth, int PaddingHeight, int PaddingWidth, int Groups);

    /// <summary>A value of the graph while inference walks it: its name, shape and the spec that made
    /// it (−1 for the network input).</summary>
    private readonly record struct Value(string Name, Shape Shape, int Spec);

    /// <summary>An open block: its input and, after [Shortcut], the end of its main path ([Residual]),
    /// or the ends of its finished branches ([Concat]).</summary>
    private sealed class Block
    {
        public Block(Value input) => Input = input;
        public Value Input { get; }
        public Value? MainEnd { get; set; }
        public List<Value> Branches { get; } = new();
    }

    public static (Shape Input, LayerModel[]? Layers, List<ShapeDiagnostic> Diagnostics) Infer(InputSpec input, IReadOnlyList<LayerSpec> specs)
    {
        var diagnostics = new List<ShapeDiagnostic>();
        Shape shape = InferInput(input, diagnostics);
        Shape inputShape = shape;
        bool inputOk = diagnostics.Count == 0;

        var names = NameLayers(specs);
        // Argument and block-structure checks that need no shape: every layer is checked, so one
        // build shows them all.
        for (int i = 0; i < specs.Count; i++) CheckArguments(i, specs[i], names[i], diagnostics);
        CheckBlocks(specs, names, diagnostics);
        if (diagnostics.Count > 0 || !inputOk) return (shape, null, diagnostics);

        var layers = new List<LayerModel>(specs.Count);
        var layerSpecs = new List<int>(specs.Count);
        var blocks = new Stack<Block>();
        var current = new Value(NetworkModel.InputValue, shape, -1);
        long parameters = 0;
        for (int i = 0; i < specs.Count; i++)
        {
            LayerSpec s = specs[i];
            string name = names[i];
            switch (s.Marker)
            {
                case Marker.Residual:
                    blocks.Push(new Block(current));
                    continue;
                case Marker.Shortcut:
                    blocks.Peek().MainEnd = current;
                    current = blocks.Peek().Input;
                    continue;
                case Marker.Concat:
                    blocks.Push(new Block(current));
                    continue;
                case Marker.Branch:
                    blocks.Peek().Branches.Add(current);
                    current = blocks.Peek().Input;
                    continue;
            }
            string what = Describe(s, name);
            string before = DescribeValue(current);
            shape = current.Shape;
            var inputs = new[] { current.Name };
            Shape output;
            // A pool's window is square and unpadded; a convolution sets its own below.
            var window = new Window(s.Kernel, s.Kernel, s.Stride, s.Stride, 0, 0, 1);
            switch (s.Kind)
            {
                case LayerKind.Add:
                {
                    var block = blocks.Pop();
                    Value main = block.MainEnd ?? current, shortcut = block.MainEnd is null ? block.Input : current;
                    if (main.Shape != shortcut.Shape)
                    {
                        string hint = "";
                        if (block.MainEnd is null || shortcut.Name == block.Input.Name)
                        {
                            int stride = main.Shape.IsImage && shortcut.Shape.IsImage && main.Shape.H > 0 && shortcut.Shape.H % main.Shape.H == 0 ? shortcut.Shape.H / main.Shape.H : 1;
                            hint = main.Shape.IsImage && shortcut.Shape.IsImage
                                ? Inv($"; the shortcut is the identity, so give the block a projection: [Shortcut] [Conv2D({main.Shape.C}, 1{(stride > 1 ? $", Stride = {stride}" : "")})] before [EndResidual]")
                                : Inv($"; the shortcut is the identity, so give the block a projection: [Shortcut] [Dense({main.Shape.C})] before [EndResidual]");
                        }
                        diagnostics.Add(new(i, null, DiagnosticDescriptors.AddShapeMismatch, new object[] { what, main.Shape.ToString(), DescribeValue(main), shortcut.Shape.ToString(), DescribeValue(shortcut), hint }));
                        return Fail();
                    }
                    shape = main.Shape;
                    inputs = new[] { main.Name, shortcut.Name };
                    output = main.Shape;
                    break;
                }
                case LayerKind.Concat:
                {
                    var block = blocks.Pop();
                    var ends = block.Branches.Append(current).ToList();
                    var first = ends[0].Shape;
                    if (ends.Any(e => e.Shape.IsImage != first.IsImage || (first.IsImage && (e.Shape.H != first.H || e.Shape.W != first.W))))
                    {
                        string list = string.Join(", ", ends.Select((e, b) => Inv($"branch {b + 1} ends in {e.Shape} ({DescribeValue(e)})")));
                        diagnostics.Add(new(i, null, DiagnosticDescriptors.ConcatShapeMismatch, new object[] { what, list }));
                        return Fail();
                    }
                    int channels = ends.Sum(e => e.Shape.C);
                    shape = first;
                    inputs = ends.Select(e => e.Name).ToArray();
                    output = first.IsImage ? Shape.Image(channels, first.H, first.W) : Shape.Flat(channels);
                    break;
                }
                case LayerKind.GlobalAvgPool2D:
                    if (!shape.IsImage) { diagnostics.Add(new(i, null, DiagnosticDescriptors.NeedsImageInput, new object[] { what, before, shape.C })); return Fail(); }
                    output = Shape.Image(shape.C, 1, 1);
                    break;
                case LayerKind.Conv2D:
                {
                    if (!shape.IsImage) { diagnostics.Add(new(i, null, DiagnosticDescriptors.NeedsImageInput, new object[] { what, FlatInputReason(specs, i, before, shape) })); return Fail(); }
                    var (kh, kw) = s.Kernels;
                    var (sh, sw) = s.Strides;
                    // "Same" padding is (kernel - 1) / 2 on each side of an axis (odd kernels only, checked above).
                    var (ph, pw) = s.Paddings;
                    if (ph == Conv2DAttribute.Same) ph = (kh - 1) / 2;
                    if (pw == Conv2DAttribute.Same) pw = (kw - 1) / 2;
                    if (shape.C % s.Groups != 0 || s.Outputs % s.Groups != 0)
                    {
                        diagnostics.Add(new(i, nameof(Conv2DAttribute.Groups), DiagnosticDescriptors.GroupsMismatch, new object[] { what, s.Groups, shape.C, s.Outputs }));
                        return Fail();
                    }
                    long hp = (long)shape.H + 2L * ph, wp = (long)shape.W + 2L * pw;
                    if (kh > hp || kw > wp)
                    {
                        string padded = ph > 0 || pw > 0 ? Inv($" (padded to {hp}x{wp})") : "";
                        string argument = s.HasKernel ? nameof(Conv2DAttribute.Kernel) : kh > hp ? nameof(Conv2DAttribute.KernelHeight) : nameof(Conv2DAttribute.KernelWidth);
                        diagnostics.Add(new(i, argument, DiagnosticDescriptors.WindowTooLarge, new object[] { what, Inv($"{kh}x{kw}"), shape.ToString(), padded }));
                        return Fail();
                    }
                    long oh = (hp - kh) / sh + 1, ow = (wp - kw) / sw + 1;
                    // Checked in double first: absurd kernels and paddings overflow int and long.
                    double outputSize = (double)s.Outputs * oh * ow;
                    double weights = (double)s.Outputs * (shape.C / s.Groups) * kh * kw + s.Outputs;
                    if (outputSize > MaxFloatsPerSample)
                    {
                        diagnostics.Add(new(i, null, DiagnosticDescriptors.TooLarge, new object[] { what, "an output of", Count(outputSize), Inv($"values per sample ({s.Outputs}x{oh}x{ow})"), Count(MaxFloatsPerSample) }));
                        return Fail();
                    }
                    if (weights + parameters > MaxParameters)
                    {
                        diagnostics.Add(new(i, null, DiagnosticDescriptors.TooLarge, new object[] { what, "the network", Count(weights + parameters), "parameters", Count(MaxParameters) }));
                        return Fail();
                    }
                    output = Shape.Image(s.Outputs, (int)oh, (int)ow);
                    window = new Window(kh, kw, sh, sw, ph, pw, s.Groups);
                    break;
                }
                case LayerKind.MaxPool2D:
                case LayerKind.AvgPool2D:
                {
                    if (!shape.IsImage) { diagnostics.Add(new(i, null, DiagnosticDescriptors.NeedsImageInput, new object[] { what, FlatInputReason(specs, i, before, shape) })); return Fail(); }
                    if (s.Kernel > shape.H || s.Kernel > shape.W)
                    {
                        diagnostics.Add(new(i, nameof(MaxPool2DAttribute.Size), DiagnosticDescriptors.WindowTooLarge, new object[] { what, Inv($"{s.Kernel}x{s.Kernel}"), shape.ToString(), "" }));
                        return Fail();
                    }
                    output = Shape.Image(shape.C, (shape.H - s.Kernel) / s.Stride + 1, (shape.W - s.Kernel) / s.Stride + 1);
                    break;
                }
                case LayerKind.Dense:
                {
                    double weights = (double)s.Outputs * shape.Size + s.Outputs;
                    if (weights + parameters > MaxParameters)
                    {
                        diagnostics.Add(new(i, null, DiagnosticDescriptors.TooLarge, new object[] { what, "the network", Count(weights + parameters), "parameters", Count(MaxParameters) }));
                        return Fail();
                    }
                    output = Shape.Flat(s.Outputs);
                    break;
                }
                case LayerKind.BatchNorm:
                    if (s.Features != 0 && s.Features != shape.C)
                    {
                        string unit = shape.IsImage ? "channels" : "features";
                        diagnostics.Add(new(i, nameof(BatchNormAttribute.Features), DiagnosticDescriptors.BatchNormFeatureMismatch,
                            new object[] { what, s.Features, shape.ToString(), before, shape.C, unit }));
                        return Fail();
                    }
                    if (s.Momentum < 0.5)
                        diagnostics.Add(new(i, nameof(BatchNormAttribute.Momentum), DiagnosticDescriptors.LowBatchNormMomentum,
                            new object[] { what, s.Momentum.ToString("R", System.Globalization.CultureInfo.InvariantCulture), (1 - s.Momentum).ToString("R", System.Globalization.CultureInfo.InvariantCulture) }));
                    if (current.Spec >= 0 && specs[current.Spec].Kind == LayerKind.BatchNorm && specs[current.Spec].Marker == Marker.None)
                        diagnostics.Add(new(i, null, DiagnosticDescriptors.ConsecutiveBatchNorms, new object[] { what, before }));
                    output = shape;
                    break;
                default:
                    output = shape;
                    break;
            }

            var layer = new LayerModel(s.Kind, name, s.Outputs, window.KernelHeight, window.KernelWidth, window.StrideHeight, window.StrideWidth,
                window.PaddingHeight, window.PaddingWidth, s.Epsilon, s.Momentum, shape, output, inputs.ToEquatableArray()) { Slope = s.Slope, Rate = s.Rate, Groups = window.Groups };
            if (output.Size > MaxFloatsPerSample)
            {
                diagnostics.Add(new(i, null, DiagnosticDescriptors.TooLarge, new object[] { what, "an output of", Count(output.Size), Inv($"values per sample ({output})"), Count(MaxFloatsPerSample) }));
                return Fail();
            }
            parameters += layer.ParameterCount;
            if (layer.ParameterCount > MaxParameters || parameters > MaxParameters)
            {
                diagnostics.Add(new(i, null, DiagnosticDescriptors.TooLarge, new object[] { what, "the network", Count(parameters), "parameters", Count(MaxParameters) }));
                return Fail();
            }
            layers.Add(layer);
            layerSpecs.Add(i);
            current = new Value(name, output, i);
            shape = output;
        }

        LayerModel last = layers[layers.Count - 1];
        int lastSpec = layerSpecs[layerSpecs.Count - 1];
        string lastName = Describe(specs[lastSpec], last.Name);
        if (shape.IsImage)
        {
            diagnostics.Add(new(lastSpec, null, DiagnosticDescriptors.OutputNotFlat, new object[] { shape.ToString(), lastName }));
            return Fail();
        }
        if (last.IsActivation)
            diagnostics.Add(new(lastSpec, null, DiagnosticDescriptors.ActivationBeforeLoss, new object[] { lastName }));
        if (shape.C == 1)
            diagnostics.Add(new(lastSpec, null, DiagnosticDescriptors.SingleClass, new object[] { lastName }));
        return (inputShape, layers.ToArray(), diagnostics);

        (Shape, LayerModel[]?, List<ShapeDiagnostic>) Fail() => (shape, null, diagnostics);

        string DescribeValue(Value v) => v.Spec < 0 ? "the input" : Describe(specs[v.Spec], names[v.Spec]);
    }

    /// <summary>Markers must nest: [Shortcut] and [EndResidual] inside an open [Residual], [Branch] and
    /// [EndConcat] inside an open [Concat], one [Shortcut] per residual block and a main path of at
    /// least one layer, two or more branches per concat block, every block closed.</summary>
    private static void CheckBlocks(IReadOnlyList<LayerSpec> specs, string[] names, List<ShapeDiagnostic> diagnostics)
    {
        // Per open block: the spec index of its opening marker, its kind, whether a residual block
        // has its [Shortcut], how many layers (or nested blocks) its main path has so far, and how
        // many branches a concat block has started.
        var open = new Stack<(int Spec, Marker Kind, bool Shortcut, int MainLayers, int Branches)>();
        for (int i = 0; i < specs.Count; i++)
        {
            Marker marker = specs[i].Marker;
            switch (marker)
            {
                case Marker.Residual:
                case Marker.Concat:
                    Count();
                    open.Push((i, marker, false, 0, 1));
                    break;
                case Marker.Shortcut:
                {
                    if (!Inside(Marker.Residual, "start a shortcut path in")) break;
                    var b = open.Pop();
                    if (b.Shortcut) diagnostics.Add(new(i, null, DiagnosticDescriptors.DuplicateShortcut, Array.Empty<object>()));
                    else if (b.MainLayers == 0) diagnostics.Add(new(i, null, DiagnosticDescriptors.EmptyMainPath, new object[] { "The block", "[Shortcut]" }));
                    open.Push((b.Spec, b.Kind, true, Math.Max(b.MainLayers, 1), 1));
                    break;
                }
                case Marker.Branch:
                {
                    if (!Inside(Marker.Concat, "start a branch in")) break;
                    var b = open.Pop();
                    open.Push((b.Spec, b.Kind, false, b.MainLayers, b.Branches + 1));
                    break;
                }
                case Marker.EndResidual:
                {
                    if (!Inside(Marker.Residual, "close")) break;
                    var e = open.Pop();
                    if (!e.Shortcut && e.MainLayers == 0) diagnostics.Add(new(i, null, DiagnosticDescriptors.EmptyMainPath, new object[] { Describe(specs[i], names[i]), "[EndResidual]" }));
                    Count();
                    break;
                }
                case Marker.EndConcat:
                {
                    if (!Inside(Marker.Concat, "close")) break;
                    var e = open.Pop();
                    if (e.Branches < 2) diagnostics.Add(new(e.Spec, null, DiagnosticDescriptors.TooFewBranches, Array.Empty<object>()));
                    Count();
                    break;
                }
                default:
                    Count();
                    break;
            }

            // True when the innermost open block is of kind `block`; else reports why not.
            bool Inside(Marker block, string purpose)
            {
                if (open.Count > 0 && open.Peek().Kind == block) return true;
                if (open.Count == 0 || !open.Any(b => b.Kind == block))
                    diagnostics.Add(new(i, null, DiagnosticDescriptors.MarkerOutsideBlock, new object[] { marker.ToString(), block.ToString(), purpose }));
                else
                {
                    diagnostics.Add(new(i, null, DiagnosticDescriptors.BlockMismatch, new object[] { marker.ToString(), block.ToString(), open.Peek().Kind.ToString() }));
                    if (marker is Marker.EndResidual or Marker.EndConcat)
                    {
                        // The end marker closes the block it names, so that block is not also reported as unclosed.
                        var kept = open.Reverse().ToList();
                        kept.RemoveAt(kept.FindLastIndex(b => b.Kind == block));
                        open = new Stack<(int, Marker, bool, int, int)>(kept);
                    }
                }
                return false;
            }
        }
        foreach (var b in open) diagnostics.Add(new(b.Spec, null, DiagnosticDescriptors.UnclosedBlock, new object[] { b.Kind.ToString() }));

        void Count()
        {
            if (open.Count == 0) return;
            var top = open.Pop();
            open.Push(top.Shortcut ? top : (top.Spec, top.Kind, false, top.MainLayers + 1, top.Branches));
        }
    }

    /// <summary>Why layer <paramref name="i"/>'s input is flat, and the fix: only a Dense and a flat
    /// network input produce a flat shape.</summary>
    private static string FlatInputReason(IReadOnlyList<LayerSpec> specs, int i, string before, Shape shape)
    {
        for (int j = 0; j < i; j++)
            if (specs[j].Kind == LayerKind.Dense)
                return Inv($"{before} produces a flat vector of {shape.C} features; image layers must come before the first Dense");
        return Inv($"the network's input is a flat vector of {shape.C} features; give [Network] Channels, Height and Width instead of Features");
    }

    /// <summary>Messages read the same in every culture (no "1,5" for 1.5, no U+2212 minus).</summary>
    private static string Inv(FormattableString text) => FormattableString.Invariant(text);

    private static string Count(double n) => n.ToString("N0", System.Globalization.CultureInfo.InvariantCulture);

    private static Shape InferInput(InputSpec input, List<ShapeDiagnostic> diagnostics)
    {
        bool image = input.Channels is not null || input.Height is not null || input.Width is not null;
        if (image && input.Features is not null)
        {
            diagnostics.Add(new(-1, nameof(NetworkAttribute.Features), DiagnosticDescriptors.InputShapeConflict, Array.Empty<object>()));
            return default;
        }
        if (!image)
        {
            if (input.Features is not { } features)
            {
                diagnostics.Add(new(-1, null, DiagnosticDescriptors.InputShapeMissing, Array.Empty<object>()));
                return default;
            }
            if (features <= 0) diagnostics.Add(new(-1, nameof(NetworkAttribute.Features), DiagnosticDescriptors.InputSizeNotPositive, new object[] { nameof(NetworkAttribute.Features), features }));
            else if (features > MaxFloatsPerSample) diagnostics.Add(new(-1, nameof(NetworkAttribute.Features), DiagnosticDescriptors.InputFeaturesTooLarge, new object[] { Count(features), Count(MaxFloatsPerSample) }));
            return Shape.Flat(features);
        }
        foreach (var (name, value) in new[] { (nameof(NetworkAttribute.Channels), input.Channels), (nameof(NetworkAttribute.Height), input.Height), (nameof(NetworkAttribute.Width), input.Width) })
        {
            if (value is null)
            {
                diagnostics.Add(new(-1, null, DiagnosticDescriptors.InputSideMissing, new object[] { name }));
                return default;
            }
            if (value <= 0)
            {
                diagnostics.Add(new(-1, name, DiagnosticDescriptors.InputSizeNotPositive, new object[] { name, value }));
                return default;
            }
        }
        int c = input.Channels!.Value, h = input.Height!.Value, w = input.Width!.Value;
        long size = (long)c * h * w;
        if (size > MaxFloatsPerSample)
        {
            diagnostics.Add(new(-1, null, DiagnosticDescriptors.InputImageTooLarge, new object[] { Inv($"{c}x{h}x{w}"), Count(size), Count(MaxFloatsPerSample) }));
            return default;
        }
        return Shape.Image(c, h, w);
    }

    private static void CheckArguments(int i, LayerSpec s, string name, List<ShapeDiagnostic> diagnostics)
    {
        string what = Describe(s.Kind, name);
        switch (s.Kind)
        {
            case LayerKind.Conv2D:
                if (s.Outputs <= 0) diagnostics.Add(new(i, nameof(Conv2DAttribute.Filters), DiagnosticDescriptors.NonPositiveSize, new object[] { what, nameof(Conv2DAttribute.Filters), s.Outputs }));
                if (s.Groups <= 0) diagnostics.Add(new(i, nameof(Conv2DAttribute.Groups), DiagnosticDescriptors.NonPositiveSize, new object[] { what, nameof(Conv2DAttribute.Groups), s.Groups }));
                CheckConvWindow(i, s, what, diagnostics);
                break;
            case LayerKind.MaxPool2D:
            case LayerKind.AvgPool2D:
                if (s.Kernel <= 0) diagnostics.Add(new(i, nameof(MaxPool2DAttribute.Size), DiagnosticDescriptors.NonPositiveSize, new object[] { what, nameof(MaxPool2DAttribute.Size), s.Kernel }));
                if (s.Stride <= 0) diagnostics.Add(new(i, nameof(Conv2DAttribute.Stride), DiagnosticDescriptors.PoolStrideBelowOne, new object[] { what, s.Stride }));
                break;
            case LayerKind.Dense:
                if (s.Outputs <= 0) diagnostics.Add(new(i, nameof(DenseAttribute.Units), DiagnosticDescriptors.NonPositiveSize, new object[] { what, nameof(DenseAttribute.Units), s.Outputs }));
                break;
            case LayerKind.Dropout:
                if (!(s.Rate >= 0 && s.Rate < 1))
                    diagnostics.Add(new(i, nameof(DropoutAttribute.Rate), DiagnosticDescriptors.InvalidDropoutRate, new object[] { what, s.Rate.ToString("R", System.Globalization.CultureInfo.InvariantCulture) }));
                break;
            case LayerKind.LeakyReLU:
                if (!(s.Slope >= 0 && s.Slope < 1))
                    diagnostics.Add(new(i, nameof(LeakyReLUAttribute.Slope), DiagnosticDescriptors.InvalidSlope, new object[] { what, s.Slope.ToString("R", System.Globalization.CultureInfo.InvariantCulture) }));
                break;
            case LayerKind.BatchNorm:
                if (s.Features < 0) diagnostics.Add(new(i, nameof(BatchNormAttribute.Features), DiagnosticDescriptors.NonPositiveSize, new object[] { what, nameof(BatchNormAttribute.Features), s.Features }));
                if (!(s.Epsilon > 0) || double.IsInfinity(s.Epsilon) || s.Epsilon > 1)
                    diagnostics.Add(new(i, nameof(BatchNormAttribute.Epsilon), DiagnosticDescriptors.InvalidBatchNormEpsilon, new object[] { what, Inv($"{s.Epsilon}") }));
                if (!(s.Momentum >= 0 && s.Momentum <= 1))
                    diagnostics.Add(new(i, nameof(BatchNormAttribute.Momentum), DiagnosticDescriptors.InvalidBatchNormMomentum, new object[] { what, Inv($"{s.Momentum}") }));
                break;
        }
    }

    /// <summary>A convolution's kernel, stride and padding: square and per-axis forms not mixed, every size
    /// given and positive, each padding an odd kernel's "same" or smaller than the kernel along its axis.</summary>
    private static void CheckConvWindow(int i, LayerSpec s, string what, List<ShapeDiagnostic> diagnostics)
    {
        const string Kernel = nameof(Conv2DAttribute.Kernel), KernelHeight = nameof(Conv2DAttribute.KernelHeight), KernelWidth = nameof(Conv2DAttribute.KernelWidth);
        const string Stride = nameof(Conv2DAttribute.Stride), StrideHeight = nameof(Conv2DAttribute.StrideHeight), StrideWidth = nameof(Conv2DAttribute.StrideWidth);
        const string Padding = nameof(Conv2DAttribute.Padding), PaddingHeight = nameof(Conv2DAttribute.PaddingHeight), PaddingWidth = nameof(Conv2DAttribute.PaddingWidth);
        void Conflict(string square, int? height, string quantity, string heightName, string widthName) =>
            diagnostics.Add(new(i, height is not null ? heightName : widthName, DiagnosticDescriptors.ConflictingArguments,
                new object[] { what, square, height is not null ? heightName : widthName, quantity, Inv($"{heightName} and {widthName}") }));

        // Each axis: the argument that set its kernel, stride and padding, and their values.
        var axes = new List<(string Kernel, int K, string Stride, int S, string Padding, int P)>();
        bool kernelOk = true;
        if (s.HasKernel && (s.KernelHeight is not null || s.KernelWidth is not null)) { Conflict(Kernel, s.KernelHeight, "kernel", KernelHeight, KernelWidth); kernelOk = false; }
        else if (s.KernelHeight is null != s.KernelWidth is null)
        {
            diagnostics.Add(new(i, null, DiagnosticDescriptors.MissingArgument, new object[] { what, Inv($"both {KernelHeight} and {KernelWidth} for a rectangular kernel"),
                Inv($"[Conv2D({s.Outputs}, {KernelHeight} = {s.KernelHeight ?? 3}, {KernelWidth} = {s.KernelWidth ?? 1})]") }));
            kernelOk = false;
        }
        else if (!s.HasKernel && s.KernelHeight is null)
        {
            diagnostics.Add(new(i, null, DiagnosticDescriptors.MissingArgument, new object[] { what, "a kernel size", Inv($"[Conv2D({s.Outputs}, Kernel = 5)]") }));
            kernelOk = false;
        }
        var (kh, kw) = s.Kernels;
        string khName = s.HasKernel ? Kernel : KernelHeight, kwName = s.HasKernel ? Kernel : KernelWidth;
        if (kernelOk)
            foreach (var (name, k) in new[] { (khName, kh), (kwName, kw) }.Distinct())
                if (k <= 0) { diagnostics.Add(new(i, name, DiagnosticDescriptors.NonPositiveSize, new object[] { what, name, k })); kernelOk = false; }

        if (s.HasStride && (s.StrideHeight is not null || s.StrideWidth is not null)) Conflict(Stride, s.StrideHeight, "stride", StrideHeight, StrideWidth);
        else
        {
            bool square = s.StrideHeight is null && s.StrideWidth is null;
            var (sh, sw) = s.Strides;
            foreach (var (name, v) in new[] { (square ? Stride : StrideHeight, sh), (square ? Stride : StrideWidth, sw) }.Distinct())
                if (v <= 0) diagnostics.Add(new(i, name, DiagnosticDescriptors.StrideBelowOne, new object[] { what, name, v }));
        }

        if (s.HasPadding && (s.PaddingHeight is not null || s.PaddingWidth is not null)) { Conflict(Padding, s.PaddingHeight, "padding", PaddingHeight, PaddingWidth); return; }
        bool squarePadding = s.PaddingHeight is null && s.PaddingWidth is null;
        var (ph, pw) = s.Paddings;
        // A square Padding against a rectangular kernel is checked on both axes but reported once.
        var reported = new HashSet<string>();
        foreach (var (name, p, kernelName, k) in new[] { (squarePadding ? Padding : PaddingHeight, ph, khName, kh), (squarePadding ? Padding : PaddingWidth, pw, kwName, kw) }.Distinct())
        {
            if (reported.Contains(name)) continue;
            int before = diagnostics.Count;
            string value = p == Conv2DAttribute.Same ? "Same" : p.ToString(System.Globalization.CultureInfo.InvariantCulture);
            if (p == Conv2DAttribute.Same)
            {
                if (kernelOk && k % 2 == 0)
                    diagnostics.Add(new(i, name, DiagnosticDescriptors.SamePaddingEvenKernel, new object[] { what, name, kernelName, k }));
            }
            else if (p < 0) diagnostics.Add(new(i, name, DiagnosticDescriptors.NegativePadding, new object[] { what, name, value }));
            else if (kernelOk && p >= k)
            {
                string kernel = kernelName == Kernel ? Inv($"the kernel ({k})") : Inv($"{kernelName} ({k})");
                diagnostics.Add(new(i, name, DiagnosticDescriptors.PaddingNotBelowKernel, new object[] { what, name, value, kernel }));
            }
            if (diagnostics.Count > before) reported.Add(name);
        }
    }

    /// <summary>conv1, conv2, batchnorm1, sigmoid1, maxpool1, dense1… counted per kind, as the
    /// checkpoint names them.</summary>
    public static string[] NameLayers(IReadOnlyList<LayerSpec> specs)
    {
        var counts = new Dictionary<string, int>();
        var names = new string[specs.Count];
        for (int i = 0; i < specs.Count; i++)
        {
            if (specs[i].IsPureMarker) { names[i] = ""; continue; }
            string stem = ActivationKind.Of(specs[i].Kind)?.Stem ?? specs[i].Kind switch
            {
                LayerKind.Add => "add",
                LayerKind.Concat => "concat",
                LayerKind.Dropout => "dropout",
                LayerKind.GlobalAvgPool2D => "globalavgpool",
                LayerKind.Conv2D => "conv",
                LayerKind.Dense => "dense",
                LayerKind.BatchNorm => "batchnorm",
                LayerKind.MaxPool2D => "maxpool",
                _ => "avgpool",
            };
            counts.TryGetValue(stem, out int n);
            counts[stem] = ++n;
            names[i] = stem + n;
        }
        return names;
    }
}
