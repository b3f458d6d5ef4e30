using System.Collections.Generic;
using System.Linq;
using GraphGen.Generator.Layers;
using GraphGen.Generator.Model;

namespace GraphGen.Generator.Planning;

/// <summary>
/// A fusion group: an optional producer (Conv2D or Dense) followed by what the fused epilogue
/// handles in one pass: an optional BatchNorm, an optional residual Add (the shortcut is read from
/// another group's output), an optional activation and an optional pooling layer, in that order.
/// Every network splits into such groups (a standalone activation or BatchNorm is a group without a
/// producer); a layer joins the group before it only when it reads that group's output and is its
/// only reader, so every value read twice is a group output. 2-D tensors are treated as C×1×1
/// images, so one set of pointwise kernels serves both.
/// </summary>
internal sealed class Group
{
    public Group(LayerModel first, Shape input)
    {
        Input = input;
        InputValue = first.Inputs[0];
        Add(first);
    }

    /// <summary>Position in the plan (the order of the forward pass); set by the planner.</summary>
    public int Index { get; set; }
    public LayerModel? Producer { get; private set; }
    public LayerModel? BatchNorm { get; private set; }
    /// <summary>The residual Add fused into the epilogue; its shortcut is <see cref="ShortcutValue"/>.</summary>
    public LayerModel? Residual { get; private set; }
    public LayerModel? Activation { get; private set; }
    public LayerModel? Pool { get; private set; }

    /// <summary>Shape entering the group.</summary>
    public Shape Input { get; }
    /// <summary>The value the group reads: a layer name or <see cref="NetworkModel.InputValue"/>.</summary>
    public string InputValue { get; }
    /// <summary>The value the residual Add reads besides the group's own path.</summary>
    public string? ShortcutValue => Residual?.Inputs[1];
    /// <summary>The value the group produces: its last layer's name.</summary>
    public string OutputValue => Layers.Last().Name;
    /// <summary>Shape the producer writes (the group input when there is no producer).</summary>
    public Shape Z => Producer?.Output ?? Input;
    /// <summary>Shape leaving the group.</summary>
    public Shape Output => Pool?.Output ?? Z;

    public bool IsConv => Producer?.Kind == LayerKind.Conv2D;
    public bool IsDense => Producer?.Kind == LayerKind.Dense;
    /// <summary>The group's producer is a Concat: it copies its inputs into channel slices of z.</summary>
    public bool IsConcat => Producer?.Kind == LayerKind.Concat;
    /// <summary>The group's producer is a Dropout: z = x·mask in training, z = x in inference.</summary>
    public bool IsDropout => Producer?.Kind == LayerKind.Dropout;
    /// <summary>The producer has weights (Conv2D or Dense).</summary>
    public bool HasWeights => IsConv || IsDense;
    public bool HasPost => BatchNorm is not null || Residual is not null || Activation is not null || Pool is not null;
    public bool HasParameters => HasWeights || BatchNorm is not null;
    /// <summary>A convolution's larger padding (rows or columns): above 0 when it pads its input.</summary>
    public int Padding => IsConv ? System.Math.Max(Producer!.PaddingHeight, Producer.PaddingWidth) : 0;

    /// <summary>What the group's head reads: the producer's inputs (several for a Concat), else the
    /// group input.</summary>
    public IReadOnlyList<string> HeadInputs => Producer is { } p ? p.Inputs.ToArray() : new[] { InputValue };

    /// <summary>Set by the planner, one per <see cref="HeadInputs"/>: whether some group upstream of
    /// that value has parameters (so the gradient must reach it), and whether this group adds its
    /// gradient to what a reader earlier in the backward pass wrote (instead of writing it).</summary>
    public (bool Needs, bool Accumulates)[] InputGradients { get; set; } = System.Array.Empty<(bool, bool)>();

    /// <summary>Some group upstream of an input has parameters, so this group must pass a gradient back.</summary>
    public bool NeedsInputGradient => InputGradients.Any(i => i.Needs);
    /// <summary>Set by the planner: likewise for the shortcut of the residual Add.</summary>
    public bool NeedsShortcutGradient { get; set; }
    /// <summary>The (first) input gradient is added to what a later reader of the same value (earlier
    /// in the backward pass) already wrote, instead of written.</summary>
    public bool AccumulatesInputGradient => InputGradients.Length > 0 && InputGradients[0].Accumulates;
    /// <summary>Likewise for the shortcut gradient.</summary>
    public bool AccumulatesShortcutGradient { get; set; }
    /// <summary>Set by the planner: the tilings and fusions chosen for a convolution group's kernels.</summary>
    public KernelChoices? Kernels { get; set; }
    /// <summary>Set by the planner: inference runs this group's convolution, activation and pool as one pass.</summary>
    public bool FusesInference => Kernels?.FusesInference == true;
    /// <summary>Set by the planner: this group takes part in the backward pass at all.</summary>
    public bool NeedsBackward => HasParameters || NeedsInputGradient || NeedsShortcutGradient;
    /// <summary>True when a windowed pool's windows tile its input exactly (stride = size, no remainder):
    /// the backward pass then writes every position once and needs no zeroing. A global pool has no
    /// window (its kernel is 0).</summary>
    public bool PoolTilesExactly => Pool is { KernelHeight: > 0 } p && p.StrideHeight == p.KernelHeight && p.StrideWidth == p.KernelWidth && p.Input.H % p.KernelHeight == 0 && p.Input.W % p.KernelWidth == 0;

    /// <summary>Whether <paramref name="layer"/>, which reads this group's output, fits the next free
    /// slot (the planner also checks that it is the output's only reader).</summary>
    public bool CanTake(LayerModel layer)
    {
        if (Pool is not null) return false;
        var slot = layer.Definition.Slot;
        // The epilogue applies the activation after a max pool's max, which is only right when it keeps order.
        if (slot == FusionSlot.Pool) return !(layer.Definition.TakesMaximum && Activation is { IsMonotonic: false });
        if (Activation is not null) return false;
        if (slot == FusionSlot.Activation) return true;
        if (Residual is not null) return false;
        if (slot == FusionSlot.Residual) return layer.Inputs[0] == OutputValue;
        return slot == FusionSlot.BatchNorm && BatchNorm is null;
    }

    public void Add(LayerModel layer)
    {
        switch (layer.Definition.Slot)
        {
            case FusionSlot.Producer: Producer = layer; break;
            case FusionSlot.BatchNorm: BatchNorm = layer; break;
            case FusionSlot.Residual: Residual = layer; break;
            case FusionSlot.Activation: Activation = layer; break;
            case FusionSlot.Pool: Pool = layer; break;
        }
    }

    public IEnumerable<LayerModel> Layers
    {
        get
        {
            if (Producer is not null) yield return Producer;
            if (BatchNorm is not null) yield return BatchNorm;
            if (Residual is not null) yield return Residual;
            if (Activation is not null) yield return Activation;
            if (Pool is not null) yield return Pool;
        }
    }

    /// <summary>conv1+batchnorm1+sigmoid1+maxpool1</summary>
    public string Title => string.Join("+", Layers.Select(l => l.Name));
}

internal enum StepKind
{
    Pad, Produce, Stats, MergeStats, Post,
    Loss,
    PostBack, ShortcutGrad, MergeGrad, BatchNormBack, ConvWeights, DenseWeights, InputGrad,
}

internal enum Partition { Chunks, Features, Serial }

internal readonly record struct Step(StepKind Kind, Group Group)
{
    public Partition Partition => Kind switch
    {
        StepKind.MergeStats or StepKind.MergeGrad => Partition.Serial,
        StepKind.DenseWeights => Partition.Features,
        _ => Partition.Chunks,
    };
}

/// <summary>Steps that run back to back without a barrier: all per chunk, all per feature block of
/// one group, or one serial step on the calling thread.</summary>
internal sealed class Phase
{
    public Phase(Partition partition, List<Step> steps) { Partition = partition; Steps = steps; }
    public Partition Partition { get; }
    public List<Step> Steps { get; }
}

/// <summary>Everything the emitter prints: the groups and the training schedule.</summary>
internal sealed class Plan
{
    public Plan(NetworkModel model, List<Group> groups, List<Phase> training)
    {
        Model = model;
        Groups = groups;
        Training = training;
        _producing = groups.ToDictionary(g => g.OutputValue);
    }

    private readonly Dictionary<string, Group> _producing;

    public NetworkModel Model { get; }
    public List<Group> Groups { get; }
    public List<Phase> Training { get; }
    /// <summary>The arena's regions, with the gradient buffers that share memory (set by the planner
    /// from <see cref="BufferPlan"/>).</summary>
    public List<BufferInfo> Buffers { get; set; } = new();
    public Group Last => Groups[Groups.Count - 1];
    public int Classes => Last.Output.C;

    /// <summary>The group whose output is <paramref name="value"/> (null for the network input).</summary>
    public Group? Producing(string value) => value == NetworkModel.InputValue ? null : _producing[value];
}
