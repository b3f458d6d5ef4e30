using System.Collections.Generic;
using GraphGen.Generator.Model;

namespace GraphGen.Generator.Planning;

/// <summary>
/// A fusion group: an optional producer (Conv2D or Dense) followed by what the fused epilogue
/// handles in one pass: an optional BatchNorm, an optional activation and an optional pooling
/// layer, in that order. Every layer sequence splits into such groups (a standalone activation or
/// BatchNorm is a group without a producer). 2-D tensors are treated as C×1×1 images, so one set of
/// pointwise kernels serves both.
/// </summary>
internal sealed class Group
{
    public Group(int index, LayerModel? producer, LayerModel? batchNorm, LayerModel? activation, LayerModel? pool, Shape input)
    {
        Index = index;
        Producer = producer;
        BatchNorm = batchNorm;
        Activation = activation;
        Pool = pool;
        Input = input;
        Z = producer?.Output ?? input;
        Output = pool?.Output ?? Z;
    }

    public int Index { get; }
    public LayerModel? Producer { get; }
    public LayerModel? BatchNorm { get; }
    public LayerModel? Activation { get; }
    public LayerModel? Pool { get; }

    /// <summary>Shape entering the group.</summary>
    public Shape Input { get; }
    /// <summary>Shape the producer writes (the group input when there is no producer).</summary>
    public Shape Z { get; }
    /// <summary>Shape leaving the group.</summary>
    public Shape Output { get; }

    public bool IsConv => Producer?.Kind == LayerKind.Conv2D;
    public bool IsDense => Producer?.Kind == LayerKind.Dense;
    public bool HasPost => BatchNorm is not null || Activation is not null || Pool is not null;
    public bool HasParameters => Producer is not null || BatchNorm is not null;
    public int Padding => IsConv ? Producer!.Padding : 0;

    /// <summary>Set by the planner: some earlier group has parameters, so this group must pass a
    /// gradient back to its input.</summary>
    public bool NeedsInputGradient { get; set; }
    /// <summary>Set by the planner: this group takes part in the backward pass at all.</summary>
    public bool NeedsBackward => HasParameters || NeedsInputGradient;
    /// <summary>True when a max pool's windows tile its input exactly (stride = size, no remainder):
    /// the backward pass then writes every position once and needs no zeroing.</summary>
    public bool PoolTilesExactly => Pool is { } p && p.Stride == p.Kernel && p.Input.H % p.Kernel == 0 && p.Input.W % p.Kernel == 0;

    public IEnumerable<LayerModel> Layers
    {
        get
        {
            if (Producer is not null) yield return Producer;
            if (BatchNorm is not null) yield return BatchNorm;
            if (Activation is not null) yield return Activation;
            if (Pool is not null) yield return Pool;
        }
    }

    /// <summary>conv1+batchnorm1+sigmoid1+maxpool1</summary>
    public string Title => string.Join("+", System.Linq.Enumerable.Select(Layers, l => l.Name));
}

internal enum StepKind
{
    Pad, Produce, Stats, MergeStats, Post,
    Loss,
    PostBack, MergeGrad, BatchNormBack, ConvWeights, DenseWeights, InputGrad,
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
    }

    public NetworkModel Model { get; }
    public List<Group> Groups { get; }
    public List<Phase> Training { get; }
    public Group Last => Groups[Groups.Count - 1];
    public int Classes => Last.Output.C;
}
