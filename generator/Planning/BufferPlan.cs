using System.Collections.Generic;
using System.Linq;

namespace GraphGen.Generator.Planning;

/// <summary>
/// The buffer plan by liveness: decides which arena regions share memory.
///
/// Every activation a group produces is read again by the backward pass (the epilogue's backward
/// reads z and the output, the weight gradient reads the producer's input), and FindNonFinite reads
/// them after the step, so forward buffers live for the whole step and never share. Gradient buffers
/// (the DS, DZ, DX and DP regions) live only from the step that first writes them to the step that
/// last reads them. Steps are numbered in the order the training step runs them (phase by phase, each
/// phase's steps in order); two gradient buffers whose intervals do not overlap may occupy the same
/// region. Regions that share memory also share their per-chunk stride, so chunk c of one buffer
/// overlaps only chunk c of the other: chunks running in parallel within a phase never touch each
/// other's memory, and phases are separated by barriers.
///
/// The assignment is greedy interval colouring, largest buffer first (ties by name, so it is
/// deterministic): each buffer joins the first region none of whose members is live at the same time.
/// The region's size is its largest member's.
/// </summary>
internal static class BufferPlan
{
    /// <summary>The buffers of <paramref name="plan"/> (<see cref="BufferLayout.Build"/>), with
    /// <see cref="BufferInfo.SharedWith"/> set on every buffer placed in another's region and
    /// <see cref="BufferInfo.RegionFloats"/> on each region's head (its largest member's size).</summary>
    public static List<BufferInfo> Build(Plan plan)
    {
        var buffers = BufferLayout.Build(plan);
        var live = Intervals(plan);

        var regions = new List<(string Head, long Floats, List<(int From, int To)> Busy)>();
        var placed = new Dictionary<string, string>();
        foreach (var b in buffers.Where(b => b.IsGradient && live.ContainsKey(b.Name)).OrderByDescending(b => b.Floats).ThenBy(b => b.Name, System.StringComparer.Ordinal))
        {
            var interval = live[b.Name];
            int r = regions.FindIndex(x => x.Busy.All(o => o.To < interval.From || interval.To < o.From));
            if (r < 0)
            {
                regions.Add((b.Name, b.Floats, new List<(int, int)> { interval }));
                continue;
            }
            regions[r].Busy.Add(interval);
            placed[b.Name] = regions[r].Head;
        }

        var heads = regions.Where(r => r.Busy.Count > 1).ToDictionary(r => r.Head, r => r.Floats);
        return buffers.Select(b =>
            placed.TryGetValue(b.Name, out var head) ? b with { SharedWith = head }
            : heads.TryGetValue(b.Name, out long floats) ? b with { RegionFloats = floats }
            : b).ToList();
    }

    /// <summary>The gradient buffers whose region a later occupant reuses within the step: after the
    /// step they no longer hold their own values.</summary>
    public static HashSet<string> Overwritten(Plan plan)
    {
        var live = Intervals(plan);
        var heads = plan.Buffers.Where(b => live.ContainsKey(b.Name)).GroupBy(b => b.SharedWith ?? b.Name);
        var overwritten = new HashSet<string>();
        foreach (var region in heads)
            foreach (var b in region)
                if (region.Any(o => live[o.Name].From > live[b.Name].To)) overwritten.Add(b.Name);
        return overwritten;
    }

    /// <summary>For every gradient buffer the training step touches, the first and last step (in run
    /// order) that reads or writes it.</summary>
    public static Dictionary<string, (int From, int To)> Intervals(Plan plan)
    {
        var live = new Dictionary<string, (int From, int To)>();
        int position = 0;
        foreach (var phase in plan.Training)
        {
            foreach (var step in phase.Steps)
            {
                foreach (string name in GradientsTouched(plan, step))
                    live[name] = live.TryGetValue(name, out var t) ? (t.From, position) : (position, position);
                position++;
            }
        }
        return live;
    }

    /// <summary>The gradient buffers a step reads or writes: what its emitted code passes
    /// (Emitting/NetworkEmitter.Schedule.cs, EmitStep).</summary>
    public static IEnumerable<string> GradientsTouched(Plan plan, Step step)
    {
        var g = step.Group;
        switch (step.Kind)
        {
            case StepKind.Loss:
                yield return BufferLayout.DOut(g);
                break;
            case StepKind.PostBack:
                yield return BufferLayout.DOut(g);
                yield return BufferLayout.DZ(plan, g);
                break;
            case StepKind.BatchNormBack:
            case StepKind.ConvWeights:
            case StepKind.DenseWeights:
                yield return BufferLayout.DZ(plan, g);
                break;
            case StepKind.ShortcutGrad:
                yield return BufferLayout.DZ(plan, g);
                yield return BufferLayout.DOf(plan, g.ShortcutValue!);
                break;
            case StepKind.InputGrad:
                yield return BufferLayout.DZ(plan, g);
                var inputs = g.HeadInputs;
                for (int i = 0; i < inputs.Count; i++)
                    if (g.InputGradients[i].Needs) yield return BufferLayout.DOf(plan, inputs[i]);
                if (g.IsConv && g.Padding > 0) yield return $"G{g.Index}DP";
                else if (BufferLayout.NeedsScratchInputGradient(g)) yield return $"G{g.Index}DX";
                break;
        }
    }
}
