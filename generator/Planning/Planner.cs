using System.Collections.Generic;
using GraphGen.Generator.Model;

namespace GraphGen.Generator.Planning;

/// <summary>
/// Turns the layer list into fusion groups and orders the work of a training step into phases.
///
/// Forward, per group: (pad the input) → producer, accumulating batch-norm partial statistics inline
/// → merge the statistics (serial) → the fused epilogue: normalize, activate, pool. The epilogue of one
/// group and the producer of the next run in the same per-chunk phase. Backward mirrors it: pool,
/// activation and batch-norm reductions in one pass, merge (serial), batch-norm dx, then the
/// producer's weight and input gradients; dense weight gradients run per feature block, so each
/// weight's sum over the batch is made by one thread in a fixed order.
/// </summary>
internal static class Planner
{
    public static Plan Build(NetworkModel model)
    {
        var groups = FormGroups(model);
        bool paramsBefore = false;
        foreach (var g in groups)
        {
            g.NeedsInputGradient = paramsBefore;
            paramsBefore |= g.HasParameters;
        }
        return new Plan(model, groups, Schedule(groups));
    }

    private static List<Group> FormGroups(NetworkModel model)
    {
        var groups = new List<Group>();
        var layers = model.Layers;
        int i = 0;
        Shape shape = model.Input;
        while (i < layers.Count)
        {
            LayerModel? producer = null, bn = null, act = null, pool = null;
            if (layers[i].IsProducer) producer = layers[i++];
            if (i < layers.Count && layers[i].Kind == LayerKind.BatchNorm) bn = layers[i++];
            if (i < layers.Count && layers[i].IsActivation) act = layers[i++];
            if (i < layers.Count && layers[i].IsPool) pool = layers[i++];
            var group = new Group(groups.Count, producer, bn, act, pool, shape);
            groups.Add(group);
            shape = group.Output;
        }
        return groups;
    }

    private static List<Phase> Schedule(List<Group> groups)
    {
        var steps = new List<Step>();
        foreach (var g in groups)
        {
            if (g.IsConv && g.Padding > 0) steps.Add(new(StepKind.Pad, g));
            if (g.Producer is not null) steps.Add(new(StepKind.Produce, g));
            else if (g.BatchNorm is not null) steps.Add(new(StepKind.Stats, g));
            if (g.BatchNorm is not null) steps.Add(new(StepKind.MergeStats, g));
            if (g.HasPost) steps.Add(new(StepKind.Post, g));
        }
        steps.Add(new(StepKind.Loss, groups[groups.Count - 1]));
        for (int i = groups.Count - 1; i >= 0; i--)
        {
            var g = groups[i];
            if (!g.NeedsBackward) continue;
            if (g.HasPost) steps.Add(new(StepKind.PostBack, g));
            if (g.BatchNorm is not null)
            {
                steps.Add(new(StepKind.MergeGrad, g));
                steps.Add(new(StepKind.BatchNormBack, g));
            }
            if (g.IsConv) steps.Add(new(StepKind.ConvWeights, g));
            if (g.Producer is not null && g.NeedsInputGradient) steps.Add(new(StepKind.InputGrad, g));
            if (g.IsDense) steps.Add(new(StepKind.DenseWeights, g));
        }

        // Pack consecutive per-chunk steps into one phase. A per-feature step gets a phase of its own
        // but is moved after the per-chunk steps that follow it (it only has to finish before the
        // update), so the input gradient below it joins the next group's backward phase.
        var phases = new List<Phase>();
        var deferred = new List<Step>();
        foreach (var step in steps)
        {
            if (step.Partition == Partition.Features) { deferred.Add(step); continue; }
            if (step.Partition == Partition.Serial) Flush();
            if (step.Partition == Partition.Chunks && phases.Count > 0 && phases[phases.Count - 1].Partition == Partition.Chunks)
                phases[phases.Count - 1].Steps.Add(step);
            else
                phases.Add(new Phase(step.Partition, new List<Step> { step }));
        }
        Flush();
        return phases;

        void Flush()
        {
            foreach (var d in deferred) phases.Add(new Phase(Partition.Features, new List<Step> { d }));
            deferred.Clear();
        }
    }
}
