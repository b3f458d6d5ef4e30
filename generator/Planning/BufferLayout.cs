using System.Collections.Generic;
using GraphGen.Generator.Model;

namespace GraphGen.Generator.Planning;

/// <summary>One region of the arena, repeated once per chunk of images. <see cref="Floats"/> is the
/// size per image when <see cref="PerLane"/> (the region holds Floats × lanes per chunk), else the
/// size per chunk. A gradient buffer (<see cref="IsGradient"/>) lives only during part of the
/// backward pass, so the buffer plan may place it in another's region (<see cref="SharedWith"/>); the
/// head of such a region has <see cref="RegionFloats"/>, its largest member's size, and every member
/// steps from chunk to chunk by the region's stride.</summary>
internal sealed record BufferInfo(string Name, long Floats, bool PerLane, string Purpose, bool IsGradient = false, string? SharedWith = null, long? RegionFloats = null)
{
    /// <summary>Part of a region that several buffers share: its chunk stride is the region's, not its size.</summary>
    public bool Shares => SharedWith is not null || RegionFloats is not null;
}

/// <summary>
/// Names the buffers every group needs. Activations and their gradients are stored per chunk in the
/// "batch in lanes" layout; the names below are fields of the generated <c>Buffers</c> class.
/// </summary>
internal static class BufferLayout
{
    /// <summary>The buffer that holds <paramref name="value"/>: the input batch or a group's output.</summary>
    public static string Of(Plan plan, string value) => plan.Producing(value) is { } g ? Out(g) : "X";
    public static string In(Plan plan, Group g) => Of(plan, g.InputValue);
    /// <summary>The buffer the residual Add of <paramref name="g"/> reads its shortcut from.</summary>
    public static string Shortcut(Plan plan, Group g) => Of(plan, g.ShortcutValue!);
    public static string Out(Group g) => g.HasPost ? $"G{g.Index}S" : $"G{g.Index}Z";
    public static string Z(Group g) => g.Producer is not null ? $"G{g.Index}Z" : null!;
    /// <summary>The tensor the producer (or, without one, the epilogue) reads: the padded copy for a padded conv.</summary>
    public static string ProducerIn(Plan plan, Group g) => g.IsConv && g.Padding > 0 ? $"G{g.Index}P" : In(plan, g);
    /// <summary>Where the epilogue reads its input z: the producer's output or the group input.</summary>
    public static string PostIn(Plan plan, Group g) => g.Producer is not null ? $"G{g.Index}Z" : In(plan, g);
    public static string DOut(Group g) => $"G{g.Index}DS";
    /// <summary>The gradient buffer of <paramref name="value"/> (the group that produces it).</summary>
    public static string DOf(Plan plan, string value) => DOut(plan.Producing(value)!);

    /// <summary>A group without a producer whose input gradient is the gradient of its z: when it is the
    /// first to write that gradient, its backward pass writes it in place, into the input's buffer.</summary>
    public static bool WritesInputGradientInPlace(Group g) => g.Producer is null && g.NeedsInputGradient && !g.AccumulatesInputGradient;

    /// <summary>Gradient with respect to z (the producer output, or the group input without a producer).</summary>
    public static string DZ(Plan plan, Group g)
    {
        if (!g.HasPost) return DOut(g);
        if (WritesInputGradientInPlace(g)) return DOf(plan, g.InputValue);
        return $"G{g.Index}DZ";
    }

    /// <summary>A producer's input gradient that is added to the buffer rather than written: computed
    /// here first (a padded convolution uses its padded gradient buffer instead).</summary>
    public static bool NeedsScratchInputGradient(Group g) => g.HasWeights && g.NeedsInputGradient && g.AccumulatesInputGradient && !(g.IsConv && g.Padding > 0);

    public static List<BufferInfo> Build(Plan plan)
    {
        var list = new List<BufferInfo> { new("X", plan.Model.Input.Size, true, "input batch"), new("Y", 1, true, "labels as floats") };
        foreach (var g in plan.Groups)
        {
            string p = $"G{g.Index}";
            if (g.IsConv && g.Padding > 0)
            {
                var c = g.Producer!;
                list.Add(new(p + "P", c.PaddedInput.Size, true, $"{c.Name} zero-padded input"));
            }
            if (g.Producer is not null) list.Add(new(p + "Z", g.Z.Size, true, $"{g.Producer.Name} output"));
            if (g.IsDropout) list.Add(new(p + "M", g.Z.Size, true, $"{g.Producer!.Name} mask (0 or 1/(1 - rate))"));
            if (g.HasPost) list.Add(new(p + "S", g.Output.Size, true, $"{g.Title} output"));
            if (g.Pool?.Definition.TakesMaximum == true) list.Add(new(p + "I", g.Output.Size, true, $"{g.Pool.Name} arg-max window index"));
            if (g.BatchNorm is not null)
            {
                list.Add(new(p + "F", 3L * g.Z.C, true, $"{g.BatchNorm.Name} partial statistics (K, S1, S2)"));
                list.Add(new(p + "B", 2L * g.Z.C, true, $"{g.BatchNorm.Name} partial gradient sums (R1, R2)"));
            }
            bool last = g.Index == plan.Groups.Count - 1; // the loss writes its gradient even without parameters
            if (!g.NeedsBackward && !last) continue;
            list.Add(new(p + "DS", g.Output.Size, true, $"gradient of the loss w.r.t. the {g.Title} output", IsGradient: true));
            if (!g.NeedsBackward) continue;
            if (g.HasPost && !WritesInputGradientInPlace(g))
                list.Add(new(p + "DZ", g.Z.Size, true, $"gradient w.r.t. {(g.Producer?.Name ?? "the input")} output", IsGradient: true));
            if (NeedsScratchInputGradient(g))
                list.Add(new(p + "DX", g.Input.Size, true, $"{g.Producer!.Name} input gradient, before it is added to the other readers'", IsGradient: true));
            if (g.IsConv)
            {
                var c = g.Producer!;
                list.Add(new(p + "W", c.WeightCount + c.Outputs, false, $"{c.Name} per-chunk weight and bias gradients"));
                if (g.Padding > 0 && g.NeedsInputGradient)
                    list.Add(new(p + "DP", c.PaddedInput.Size, true, $"{c.Name} padded input gradient", IsGradient: true));
            }
        }
        return list;
    }
}
