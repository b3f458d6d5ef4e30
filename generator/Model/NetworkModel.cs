using System.Linq;
using GraphGen.Generator.Helpers;

namespace GraphGen.Generator.Model;

// The model: what the parser understood of one [Network] class, with every shape inferred.
// Plain value-equatable records only (no ISymbol, SyntaxNode or Location), so the incremental
// pipeline can compare two runs and skip the emitter when nothing relevant changed.

// LayerKind is linked from runtime/LayerKind.cs: the kinds exist once.

/// <summary>Shape of one sample: rank 4 is C×H×W, rank 2 is a flat vector of C features (H = W = 1).</summary>
internal readonly record struct Shape(int Rank, int C, int H, int W)
{
    public static Shape Image(int c, int h, int w) => new(4, c, h, w);
    public static Shape Flat(int features) => new(2, features, 1, 1);
    public bool IsImage => Rank == 4;
    public long Size => (long)C * H * W;
    public override string ToString() => IsImage ? $"{C}x{H}x{W}" : $"{C}";
}

/// <summary>One layer with its arguments resolved and its input and output shapes inferred.
/// Outputs is the filter count (Conv2D) or unit count (Dense); the kernel, stride and padding are a
/// convolution's or pooling layer's window per axis ("same" padding resolved; pools are square and
/// unpadded), and <see cref="Groups"/> a convolution's channel groups.
/// <see cref="Inputs"/> names the values the layer reads: earlier layers' names or
/// <see cref="NetworkModel.InputValue"/>; an Add reads (main path, shortcut). Layers are listed in
/// source order, which is a topological order of the graph.</summary>
internal sealed record LayerModel(
    LayerKind Kind, string Name, int Outputs, int KernelHeight, int KernelWidth, int StrideHeight, int StrideWidth,
    int PaddingHeight, int PaddingWidth, double Epsilon, double Momentum, Shape Input, Shape Output, EquatableArray<string> Inputs)
{
    /// <summary>A convolution's channel groups: each of the Outputs/Groups filters of group g reads only the
    /// Input.C/Groups channels of group g (1: an ordinary convolution; Input.C: depthwise).</summary>
    public int Groups { get; init; } = 1;
    /// <summary>Input channels each filter reads.</summary>
    public int GroupInputs => Input.C / Groups;
    /// <summary>Filters per group.</summary>
    public int GroupOutputs => Outputs / Groups;
    /// <summary>The window is square, its stride and padding the same on both axes.</summary>
    public bool IsSquare => KernelHeight == KernelWidth && StrideHeight == StrideWidth && PaddingHeight == PaddingWidth;
    /// <summary>A convolution's input with its zero padding.</summary>
    public Shape PaddedInput => Shape.Image(Input.C, Input.H + 2 * PaddingHeight, Input.W + 2 * PaddingWidth);
    /// <summary>An activation function (Layers/Activations/ defines each).</summary>
    public bool IsActivation => Layers.ActivationKind.Of(Kind) is not null;
    /// <summary>An activation that keeps order, so it commutes with a max pool.</summary>
    public bool IsMonotonic => Layers.ActivationKind.Of(Kind) is not { IsMonotonic: false };
    /// <summary>The negative-input slope of a LeakyReLU.</summary>
    public double Slope { get; init; }
    /// <summary>The probability that a Dropout zeroes a value in training.</summary>
    public double Rate { get; init; }
    /// <summary>The definition of the layer's kind (generator/Layers), which answers the kind-specific questions.</summary>
    public Layers.LayerDefinition Definition => Layers.LayerDefinition.Of(Kind);
    /// <summary>A pooling layer: the last slot of a fusion group.</summary>
    public bool IsPool => Definition.Slot == Layers.FusionSlot.Pool;
    /// <summary>A layer that heads a fusion group and writes a new tensor: Conv2D and Dense (with
    /// weights), Concat and Dropout (without).</summary>
    public bool IsProducer => Definition.Slot == Layers.FusionSlot.Producer;

    /// <summary>Values in the layer's weight tensor (a Conv2D's or Dense's; 0 for a layer without one).</summary>
    public long WeightCount => Definition.Tensors(this).Where(t => t.Name == Layers.LayerTensor.Weight).Sum(t => t.Size);

    /// <summary>Values in the layer's trained tensors (state, such as BatchNorm's moving statistics, excluded).</summary>
    public long ParameterCount => Definition.Tensors(this).Where(t => t.Parameter).Sum(t => t.Size);
}

/// <summary>A type that encloses the network class (the generated part must repeat it).</summary>
internal sealed record ContainingTypeModel(string Keyword, string Name);

/// <summary>One network class: where it lives, its input and its layers.</summary>
internal sealed record NetworkModel(
    string? Namespace, string ClassName, EquatableArray<ContainingTypeModel> ContainingTypes,
    Shape Input, EquatableArray<LayerModel> Layers)
{
    /// <summary>The name by which <see cref="LayerModel.Inputs"/> refers to the network input.</summary>
    public const string InputValue = "input";

    public string FullName
    {
        get
        {
            string prefix = Namespace is null ? "" : Namespace + ".";
            foreach (var t in ContainingTypes) prefix += t.Name + ".";
            return prefix + ClassName;
        }
    }

    public string HintName => FullName + ".g.cs";
}
