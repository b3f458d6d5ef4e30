using System;
using System.Collections.Generic;
using GraphGen.Generator.Model;
using Microsoft.CodeAnalysis;

namespace GraphGen.Generator.Parsing;

/// <summary>A layer attribute's arguments as written, before shapes are known.</summary>
internal sealed record LayerSpec(
    LayerKind Kind, int Outputs, int Kernel, bool HasKernel, int Stride, int Padding,
    int Features, double Epsilon, double Momentum);

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

    public static (Shape Input, LayerModel[]? Layers, List<ShapeDiagnostic> Diagnostics) Infer(InputSpec input, IReadOnlyList<LayerSpec> specs)
    {
        var diagnostics = new List<ShapeDiagnostic>();
        Shape shape = InferInput(input, diagnostics);
        Shape inputShape = shape;
        bool inputOk = diagnostics.Count == 0;

        var names = NameLayers(specs);
        // Argument checks that need no shape: every layer is checked, so one build shows them all.
        for (int i = 0; i < specs.Count; i++) CheckArguments(i, specs[i], names[i], diagnostics);
        if (diagnostics.Count > 0 || !inputOk) return (shape, null, diagnostics);

        var layers = new LayerModel[specs.Count];
        long parameters = 0;
        for (int i = 0; i < specs.Count; i++)
        {
            LayerSpec s = specs[i];
            string name = names[i];
            string what = Describe(s.Kind, name);
            string before = i == 0 ? "the input" : Describe(specs[i - 1].Kind, names[i - 1]);
            Shape output;
            switch (s.Kind)
            {
                case LayerKind.Conv2D:
                {
                    if (!shape.IsImage) { diagnostics.Add(new(i, null, DiagnosticDescriptors.NeedsImageInput, new object[] { what, FlatInputReason(specs, i, before, shape) })); return Fail(); }
                    long hp = (long)shape.H + 2L * s.Padding, wp = (long)shape.W + 2L * s.Padding;
                    if (s.Kernel > hp || s.Kernel > wp)
                    {
                        string padded = s.Padding > 0 ? Inv($" (padded to {hp}x{wp})") : "";
                        diagnostics.Add(new(i, "Kernel", DiagnosticDescriptors.WindowTooLarge, new object[] { what, s.Kernel, shape.ToString(), padded }));
                        return Fail();
                    }
                    long oh = (hp - s.Kernel) / s.Stride + 1, ow = (wp - s.Kernel) / s.Stride + 1;
                    // Checked in double first: absurd kernels and paddings overflow int and long.
                    double outputSize = (double)s.Outputs * oh * ow;
                    double weights = (double)s.Outputs * shape.C * s.Kernel * s.Kernel + s.Outputs;
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
                    break;
                }
                case LayerKind.MaxPool2D:
                case LayerKind.AvgPool2D:
                {
                    if (!shape.IsImage) { diagnostics.Add(new(i, null, DiagnosticDescriptors.NeedsImageInput, new object[] { what, FlatInputReason(specs, i, before, shape) })); return Fail(); }
                    if (s.Kernel > shape.H || s.Kernel > shape.W)
                    {
                        diagnostics.Add(new(i, "Size", DiagnosticDescriptors.WindowTooLarge, new object[] { what, s.Kernel, shape.ToString(), "" }));
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
                        diagnostics.Add(new(i, "Features", DiagnosticDescriptors.BatchNormFeatureMismatch,
                            new object[] { what, s.Features, shape.ToString(), before, shape.C, unit }));
                        return Fail();
                    }
                    if (i > 0 && specs[i - 1].Kind == LayerKind.BatchNorm)
                        diagnostics.Add(new(i, null, DiagnosticDescriptors.ConsecutiveBatchNorms, new object[] { what, before }));
                    output = shape;
                    break;
                default:
                    output = shape;
                    break;
            }

            var layer = new LayerModel(s.Kind, name, s.Outputs, s.Kernel, s.Stride, s.Padding, s.Epsilon, s.Momentum, shape, output);
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
            layers[i] = layer;
            shape = output;
        }

        LayerModel last = layers[layers.Length - 1];
        string lastName = Describe(last.Kind, last.Name);
        if (shape.IsImage)
        {
            diagnostics.Add(new(layers.Length - 1, null, DiagnosticDescriptors.OutputNotFlat, new object[] { shape.ToString(), lastName }));
            return Fail();
        }
        if (last.IsActivation)
            diagnostics.Add(new(layers.Length - 1, null, DiagnosticDescriptors.ActivationBeforeLoss, new object[] { lastName }));
        if (shape.C == 1)
            diagnostics.Add(new(layers.Length - 1, null, DiagnosticDescriptors.SingleClass, new object[] { lastName }));
        return (inputShape, layers, diagnostics);

        (Shape, LayerModel[]?, List<ShapeDiagnostic>) Fail() => (shape, null, diagnostics);
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
            diagnostics.Add(new(-1, "Features", DiagnosticDescriptors.InvalidInput, new object[] { "gives both Features and Channels/Height/Width; use Features for a flat input or Channels, Height and Width for an image" }));
            return default;
        }
        if (!image)
        {
            if (input.Features is not { } features)
            {
                diagnostics.Add(new(-1, null, DiagnosticDescriptors.InvalidInput, new object[] { "needs an input shape: Channels, Height and Width for images, or Features for flat vectors, e.g. [Network(Channels = 1, Height = 28, Width = 28)]" }));
                return default;
            }
            if (features <= 0) diagnostics.Add(new(-1, "Features", DiagnosticDescriptors.InvalidInput, new object[] { Inv($"Features = {features} must be positive") }));
            else if (features > MaxFloatsPerSample) diagnostics.Add(new(-1, "Features", DiagnosticDescriptors.InvalidInput, new object[] { Inv($"Features = {features:N0} is larger than GraphGen supports ({MaxFloatsPerSample:N0} values per sample)") }));
            return Shape.Flat(features);
        }
        foreach (var (name, value) in new[] { ("Channels", input.Channels), ("Height", input.Height), ("Width", input.Width) })
        {
            if (value is null)
            {
                diagnostics.Add(new(-1, null, DiagnosticDescriptors.InvalidInput, new object[] { Inv($"needs {name} for an image input (Channels, Height and Width are all required)") }));
                return default;
            }
            if (value <= 0)
            {
                diagnostics.Add(new(-1, name, DiagnosticDescriptors.InvalidInput, new object[] { Inv($"{name} = {value} must be positive") }));
                return default;
            }
        }
        int c = input.Channels!.Value, h = input.Height!.Value, w = input.Width!.Value;
        long size = (long)c * h * w;
        if (size > MaxFloatsPerSample)
        {
            diagnostics.Add(new(-1, null, DiagnosticDescriptors.InvalidInput, new object[] { Inv($"input of {c}x{h}x{w} = {size:N0} values per sample is larger than GraphGen supports ({MaxFloatsPerSample:N0})") }));
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
                if (s.Outputs <= 0) diagnostics.Add(new(i, "Filters", DiagnosticDescriptors.NonPositiveSize, new object[] { what, "Filters", s.Outputs }));
                if (!s.HasKernel) diagnostics.Add(new(i, null, DiagnosticDescriptors.MissingArgument, new object[] { what, "a kernel size", Inv($"[Conv2D({s.Outputs}, Kernel = 5)]") }));
                else if (s.Kernel <= 0) diagnostics.Add(new(i, "Kernel", DiagnosticDescriptors.NonPositiveSize, new object[] { what, "Kernel", s.Kernel }));
                if (s.Stride <= 0) diagnostics.Add(new(i, "Stride", DiagnosticDescriptors.InvalidStrideOrPadding, new object[] { what, Inv($"Stride = {s.Stride} must be at least 1") }));
                if (s.Padding < 0) diagnostics.Add(new(i, "Padding", DiagnosticDescriptors.InvalidStrideOrPadding, new object[] { what, Inv($"Padding = {s.Padding} must not be negative") }));
                else if (s.HasKernel && s.Kernel > 0 && s.Padding >= s.Kernel) diagnostics.Add(new(i, "Padding", DiagnosticDescriptors.InvalidStrideOrPadding, new object[] { what, Inv($"Padding = {s.Padding} must be smaller than the kernel ({s.Kernel}); wider padding only adds outputs that see nothing but zeros") }));
                break;
            case LayerKind.MaxPool2D:
            case LayerKind.AvgPool2D:
                if (s.Kernel <= 0) diagnostics.Add(new(i, "Size", DiagnosticDescriptors.NonPositiveSize, new object[] { what, "Size", s.Kernel }));
                if (s.Stride <= 0) diagnostics.Add(new(i, "Stride", DiagnosticDescriptors.InvalidStrideOrPadding, new object[] { what, Inv($"Stride = {s.Stride} must be at least 1 (leave it out to use the window size)") }));
                break;
            case LayerKind.Dense:
                if (s.Outputs <= 0) diagnostics.Add(new(i, "Units", DiagnosticDescriptors.NonPositiveSize, new object[] { what, "Units", s.Outputs }));
                break;
            case LayerKind.BatchNorm:
                if (s.Features < 0) diagnostics.Add(new(i, "Features", DiagnosticDescriptors.NonPositiveSize, new object[] { what, "Features", s.Features }));
                if (!(s.Epsilon > 0) || double.IsInfinity(s.Epsilon) || s.Epsilon > 1)
                    diagnostics.Add(new(i, "Epsilon", DiagnosticDescriptors.InvalidBatchNormSetting, new object[] { what, Inv($"Epsilon = {s.Epsilon} must be positive and at most 1 (the usual value is 1e-5)") }));
                if (!(s.Momentum >= 0 && s.Momentum <= 1))
                    diagnostics.Add(new(i, "Momentum", DiagnosticDescriptors.InvalidBatchNormSetting, new object[] { what, Inv($"Momentum = {s.Momentum} must be between 0 and 1 (moving = Momentum * moving + (1 - Momentum) * batch; the usual value is 0.9)") }));
                break;
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
            string stem = specs[i].Kind switch
            {
                LayerKind.Conv2D => "conv",
                LayerKind.Dense => "dense",
                LayerKind.BatchNorm => "batchnorm",
                LayerKind.Sigmoid => "sigmoid",
                LayerKind.ReLU => "relu",
                LayerKind.Tanh => "tanh",
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
