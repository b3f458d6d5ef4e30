using System;
using System.Collections.Generic;
using System.Linq;
using GraphGen.Generator.Model;
using GraphGen.Generator.Parsing;

namespace GraphGen.Generator.Layers;

/// <summary>
/// Everything the generator knows about one layer kind before its kernels, in one place: the attribute
/// that declares it, the stem of its layer names, how its arguments are read and checked, its shape rule
/// and its parameter and state tensors. One sealed class per kind in <c>Layers/</c> (the activations,
/// <see cref="ActivationKind"/>s, in <c>Layers/Activations/</c>); <see cref="All"/> lists them, and the
/// parser, the shape inference and the emitter look kinds up here. The fused kernels stay in the emitter.
/// No Roslyn types: the parser reads the attribute through an <see cref="IArgumentReader"/>.
/// </summary>
internal abstract class LayerDefinition
{
    public abstract LayerKind Kind { get; }
    /// <summary>Metadata name of the attribute (nameof of the linked attribute class); a block kind's is
    /// the marker that closes the block and makes the layer.</summary>
    public abstract string AttributeName { get; }
    /// <summary>Layers of this kind are named stem1, stem2, ... (and so are their checkpoint tensors).</summary>
    public abstract string Stem { get; }
    /// <summary>The block marker that makes a layer of this kind (Add, Concat); None for a layer attribute.</summary>
    public virtual Marker ClosingMarker => Marker.None;
    /// <summary>The slot a layer of this kind takes in a fusion group (Planning/Plan.cs): a producer heads a
    /// group and writes a new tensor; the others join the epilogue of the group before them.</summary>
    public abstract FusionSlot Slot { get; }
    /// <summary>A pool that takes each window's maximum and keeps its position for the backward pass: the
    /// epilogue takes the maximum before the activation (so only a monotonic one may precede it), and the
    /// arena holds the arg-max indices.</summary>
    public virtual bool TakesMaximum => false;

    /// <summary>The attribute's arguments as written (no checks: <see cref="Check"/> reports bad values).</summary>
    public virtual LayerSpec Read(IArgumentReader arguments) => new(Kind, 0, 0, false, 0, 0, 0, 0, 0);

    /// <summary>The argument checks that need no shape.</summary>
    public virtual void Check(LayerSpec spec, LayerFindings findings) { }

    /// <summary>The shape rule: the output of a layer of this kind on <see cref="ShapeRule.Inputs"/>, or null
    /// after reporting why there is none. By default the output is the (single) input's shape.</summary>
    public virtual Shape? Output(ShapeRule rule) => rule.Input;

    /// <summary>The kernel, stride, padding per axis and channel groups the layer model records: by default the
    /// spec's square, unpadded window (a pool's; zero for a layer without one).</summary>
    public virtual Window Window(LayerSpec spec) => new(spec.Kernel, spec.Kernel, spec.Stride, spec.Stride, 0, 0, 1);

    /// <summary>The layer's tensors in checkpoint order: name suffix (after "layer."), shape, and whether it
    /// is a trained parameter (else state, saved with checkpoints).</summary>
    public virtual IEnumerable<LayerTensor> Tensors(LayerModel layer) => Array.Empty<LayerTensor>();

    /// <summary>The settings this kind adds to its row of the generated layer table, as C# named constructor
    /// arguments of <c>GraphGen.LayerInfo</c> (", Outputs: 6, Kernel: 5, ..."); empty by default.</summary>
    public virtual string InfoArguments(LayerModel layer) => "";

    /// <summary>The settings this kind adds to its row of the generated layer table as <c>LayerInfo</c> init
    /// properties (", Slope = 0.1"); empty by default.</summary>
    public virtual string InfoProperties(LayerModel layer) => "";

    /// <summary>A double as C# source, round-trippable.</summary>
    public static string Num(double d) => d.ToString("R", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Every kind, the activations first (<see cref="ActivationKind.All"/> is that subset).</summary>
    public static readonly IReadOnlyList<LayerDefinition> All = new LayerDefinition[]
    {
        new Activations.Sigmoid(), new Activations.ReLU(), new Activations.Tanh(), new Activations.LeakyReLU(), new Activations.SiLU(),
        new Conv2D(), new Dense(), new BatchNorm(), new MaxPool2D(), new AvgPool2D(), new GlobalAvgPool2D(), new Dropout(),
        new Add(), new Concat(),
    };

    private static readonly Dictionary<LayerKind, LayerDefinition> ByKind = All.ToDictionary(d => d.Kind);

    /// <summary>The definition of <paramref name="kind"/> (every <see cref="LayerKind"/> has one).</summary>
    public static LayerDefinition Of(LayerKind kind) => ByKind[kind];

    protected static int IntOr(object? value, int fallback) => value is int v ? v : fallback;
    protected static double DoubleOr(object? value, double fallback) => value is double v ? v : fallback;
}

/// <summary>Where a layer sits in a fusion group: an optional producer, then an optional BatchNorm, residual
/// Add, activation and pool, in that order (see Planning/Plan.cs).</summary>
internal enum FusionSlot { Producer, BatchNorm, Residual, Activation, Pool }

/// <summary>One tensor of a layer: its name after "layer.", its shape, and whether it is trained.</summary>
internal readonly record struct LayerTensor(string Name, int[] Shape, bool Parameter)
{
    /// <summary>The name of a producer's weight tensor, whose bias follows it in the gradient buffers.</summary>
    public const string Weight = "weight";
    /// <summary>Values in the tensor.</summary>
    public long Size => Shape.Aggregate(1L, (n, d) => n * d);
}

/// <summary>A window layer's geometry once resolved: kernel, stride and padding per axis, and channel groups.</summary>
internal readonly record struct Window(int KernelHeight, int KernelWidth, int StrideHeight, int StrideWidth, int PaddingHeight, int PaddingWidth, int Groups);

/// <summary>A layer attribute's arguments, as the parser reads them from the compilation (values are the
/// constants written: int, double, ...; null where the argument is not there).</summary>
internal interface IArgumentReader
{
    /// <summary>How many constructor arguments were written.</summary>
    int PositionalCount { get; }
    /// <summary>The constructor argument at <paramref name="index"/>, or null.</summary>
    object? Positional(int index);
    /// <summary>Whether the named argument <paramref name="name"/> was written.</summary>
    bool HasNamed(string name);
    /// <summary>The named argument's value, or null.</summary>
    object? Named(string name);
    /// <summary>Reports <paramref name="argument"/> given both positionally and by name (GG0031, at the named one).</summary>
    void ReportDuplicate(string argument);
}
