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

/// <summary>Where a layer definition reports what is wrong with one layer: <see cref="What"/> names it
/// ("conv1 [Conv2D]") for the messages.</summary>
internal sealed class LayerFindings
{
    private readonly int _layer;
    private readonly List<ShapeDiagnostic> _diagnostics;

    public LayerFindings(int layer, string what, List<ShapeDiagnostic> diagnostics) => (_layer, What, _diagnostics) = (layer, what, diagnostics);

    public string What { get; }

    /// <summary>Reports <paramref name="descriptor"/> at <paramref name="argument"/> (the whole attribute when null).</summary>
    public void Report(string? argument, DiagnosticDescriptor descriptor, params object[] arguments) => _diagnostics.Add(new(_layer, argument, descriptor, arguments));
}

/// <summary>A value a layer reads: its name, shape and description ("conv1 [Conv2D]", "the input").</summary>
internal readonly record struct RuleInput(string Name, Shape Shape, string Description);

/// <summary>What a layer definition's shape rule sees: the layer's spec, the values it reads (one, or a
/// block's ends: main path and shortcut for an Add, the branches for a Concat), the parameters of the layers
/// before it, and the layer that made its input (null for the network input).</summary>
internal sealed class ShapeRule
{
    private readonly Func<string> _flatInputReason;

    public ShapeRule(LayerFindings findings, LayerSpec spec, IReadOnlyList<RuleInput> inputs, string before, long parameters,
        LayerSpec? producer, string? blockInput, Func<string> flatInputReason)
    {
        (Findings, Spec, Inputs, Before, Parameters, Producer, BlockInput, _flatInputReason) = (findings, spec, inputs, before, parameters, producer, blockInput, flatInputReason);
    }

    public LayerFindings Findings { get; }
    public LayerSpec Spec { get; }
    public IReadOnlyList<RuleInput> Inputs { get; }
    /// <summary>The first input's shape (the layer model's input shape).</summary>
    public Shape Input => Inputs[0].Shape;
    /// <summary>The description of the value before the layer in source order.</summary>
    public string Before { get; }
    /// <summary>Parameters of the layers before this one.</summary>
    public long Parameters { get; }
    public LayerSpec? Producer { get; }
    /// <summary>The name of the value a closing marker's block started from (an Add's identity shortcut reads it).</summary>
    public string? BlockInput { get; }
    public string What => Findings.What;

    /// <summary>Why the input is flat, and the fix (for GG0013).</summary>
    public string FlatInputReason() => _flatInputReason();

    /// <summary>Reports <paramref name="descriptor"/> and gives no output.</summary>
    public Shape? Fail(string? argument, DiagnosticDescriptor descriptor, params object[] arguments)
    {
        Findings.Report(argument, descriptor, arguments);
        return null;
    }
}

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

    // A closing marker's layer is described by the marker that makes it: "add1 [EndResidual]".
    private static string Describe(LayerSpec spec, string name) =>
        spec.Marker == Marker.None ? Describe(spec.Kind, name) : Inv($"{name} [{spec.Marker}]");

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
            // What the layer reads: the block's ends for the layer a closing marker makes, else the value before it.
            IReadOnlyList<Value> reads = new[] { current };
            string? blockInput = null;
            if (s.Marker == Marker.EndResidual)
            {
                var block = blocks.Pop();
                reads = new[] { block.MainEnd ?? current, block.MainEnd is null ? block.Input : current }; // main path, shortcut
                blockInput = block.Input.Name;
            }
            else if (s.Marker == Marker.EndConcat)
                reads = blocks.Pop().Branches.Append(current).ToList();
            shape = reads[0].Shape;
            var inputs = reads.Select(r => r.Name).ToArray();
            var definition = LayerDefinition.Of(s.Kind);
            var rule = new ShapeRule(new LayerFindings(i, what, diagnostics), s, reads.Select(r => new RuleInput(r.Name, r.Shape, DescribeValue(r))).ToList(),
                before, parameters, current.Spec >= 0 ? specs[current.Spec] : null, blockInput, () => FlatInputReason(layers, before, shape, inputShape));
            if (definition.Output(rule) is not { } output) return Fail();
            var window = definition.Window(s);

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

    /// <summary>Why a layer's input (<paramref name="shape"/>, made by <paramref name="before"/>) is flat, and
    /// the fix: some layer before it flattened an image (a Dense), or the network input is flat.</summary>
    private static string FlatInputReason(IReadOnlyList<LayerModel> layers, string before, Shape shape, Shape input)
    {
        if (layers.FirstOrDefault(l => l.Input.IsImage && !l.Output.IsImage) is { } flattens)
            return Inv($"{before} produces a flat vector of {shape.C} features; image layers must come before the first {flattens.Kind}");
        return Inv($"the network's input is a flat vector of {input.C} features; give [Network] Channels, Height and Width instead of Features");
    }

    /// <summary>Messages read the same in every culture (no "1,5" for 1.5, no U+2212 minus).</summary>
    internal static string Inv(FormattableString text) => FormattableString.Invariant(text);

    internal static string Count(double n) => n.ToString("N0", System.Globalization.CultureInfo.InvariantCulture);

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

    private static void CheckArguments(int i, LayerSpec s, string name, List<ShapeDiagnostic> diagnostics) =>
        LayerDefinition.Of(s.Kind).Check(s, new LayerFindings(i, Describe(s.Kind, name), diagnostics));

    /// <summary>conv1, conv2, batchnorm1, sigmoid1, maxpool1, dense1… counted per kind, as the
    /// checkpoint names them.</summary>
    public static string[] NameLayers(IReadOnlyList<LayerSpec> specs)
    {
        var counts = new Dictionary<string, int>();
        var names = new string[specs.Count];
        for (int i = 0; i < specs.Count; i++)
        {
            if (specs[i].IsPureMarker) { names[i] = ""; continue; }
            string stem = LayerDefinition.Of(specs[i].Kind).Stem;
            counts.TryGetValue(stem, out int n);
            counts[stem] = ++n;
            names[i] = stem + n;
        }
        return names;
    }
}
