using System.Collections.Generic;
using System.Linq;
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
        // How many layers read each value: a layer joins a group only as the sole reader of its output.
        var readers = model.Layers.SelectMany(l => l.Inputs).GroupBy(v => v).ToDictionary(r => r.Key, r => r.Count());
        var groups = FormGroups(model, readers);

        // Gradients: a group passes one back to a value when some group upstream of it has parameters.
        var trainsUpstream = new Dictionary<string, bool> { [NetworkModel.InputValue] = false };
        foreach (var g in groups)
        {
            g.InputGradients = g.HeadInputs.Select(v => (trainsUpstream[v], false)).ToArray();
            g.NeedsShortcutGradient = g.ShortcutValue is { } sv && trainsUpstream[sv];
            trainsUpstream[g.OutputValue] = g.HasParameters || g.NeedsInputGradient || g.NeedsShortcutGradient;
        }

        // A value read by several groups gets its gradient from each: the first to run in the backward
        // pass (groups in reverse order; within a group the shortcut before the input) writes it, the
        // others add to it, always in this order, so the sum is deterministic.
        var written = new HashSet<string> { groups[groups.Count - 1].OutputValue }; // the loss writes the last
        for (int i = groups.Count - 1; i >= 0; i--)
        {
            var g = groups[i];
            if (g.NeedsShortcutGradient) g.AccumulatesShortcutGradient = !written.Add(g.ShortcutValue!);
            var inputs = g.HeadInputs;
            for (int k = 0; k < inputs.Count; k++)
                if (g.InputGradients[k].Needs) g.InputGradients[k].Accumulates = !written.Add(inputs[k]);
        }
        foreach (var g in groups) g.Kernels = KernelChoices.For(g);
        var plan = new Plan(model, groups, Schedule(groups));
        plan.Buffers = BufferPlan.Build(plan);
        return plan;
    }

    /// <summary>Groups by pattern: each layer joins the group that produces what it reads when it is
    /// that value's only reader and fits the group's next free slot, else it starts a group. Groups are
    /// then ordered by their last layer, a topological order (a residual Add fused into the main path's
    /// last group moves that group after the shortcut path).</summary>
    private static List<Group> FormGroups(NetworkModel model, Dictionary<string, int> readers)
    {
        var shapes = new Dictionary<string, Shape> { [NetworkModel.InputValue] = model.Input };
        var byOutput = new Dictionary<string, Group>();
        var last = new Dictionary<Group, int>();
        for (int i = 0; i < model.Layers.Count; i++)
        {
            var layer = model.Layers[i];
            shapes[layer.Name] = layer.Output;
            string main = layer.Inputs[0];
            Group group;
            if (!layer.IsProducer && readers[main] == 1 && byOutput.TryGetValue(main, out var open) && open.CanTake(layer))
            {
                byOutput.Remove(main);
                open.Add(layer);
                group = open;
            }
            else
            {
                group = new Group(layer, shapes[main]);
            }
            byOutput[layer.Name] = group;
            last[group] = i;
        }
        var groups = last.OrderBy(p => p.Value).Select(p => p.Key).ToList();
        for (int i = 0; i < groups.Count; i++) groups[i].Index = i;
        return groups;
    }

    private static List<Phase> Schedule(List<Group> groups)
    {
        var steps = new List<Step>();
        foreach (var g in groups)
        {
            if (g.IsConv && g.Padding > 0) steps.Add(new(StepKind.Pad, g));
            if (g.Producer is not null) steps.Add(new(StepKind.Produce, g));
            if (g.BatchNorm is not null && !g.HasWeights) steps.Add(new(StepKind.Stats, g));
            if (g.BatchNorm is not null) steps.Add(new(StepKind.MergeStats, g));
            if (g.HasPost) steps.Add(new(StepKind.Post, g));
        }
        steps.Add(new(StepKind.Loss, groups[groups.Count - 1]));
        for (int i = groups.Count - 1; i >= 0; i--)
        {
            var g = groups[i];
            if (!g.NeedsBackward) continue;
            if (g.HasPost) steps.Add(new(StepKind.PostBack, g));
            // After the epilogue's backward, dz holds the gradient of the Add's output, which is the
            // shortcut's too (before batch norm's backward transforms it in place).
            if (g.NeedsShortcutGradient) steps.Add(new(StepKind.ShortcutGrad, g));
            if (g.BatchNorm is not null)
            {
                steps.Add(new(StepKind.MergeGrad, g));
                steps.Add(new(StepKind.BatchNormBack, g));
            }
            if (g.IsConv) steps.Add(new(StepKind.ConvWeights, g));
            if (g.NeedsInputGradient && (g.Producer is not null || !BufferLayout.WritesInputGradientInPlace(g))) steps.Add(new(StepKind.InputGrad, g));
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
