using System;
using GraphGen.Generator.Model;
using GraphGen.Generator.Parsing;
using GraphGen.Generator.Vocabulary;
using static GraphGen.Generator.Parsing.ShapeInference;

namespace GraphGen.Generator.Layers;

/// <summary>What [MaxPool2D(size)] and [AvgPool2D(size)] share: a square, unpadded window of Size with
/// Stride (the window when not given), read and checked alike; no tensors.</summary>
internal abstract class Pool2D : LayerDefinition
{
    public sealed override FusionSlot Slot => FusionSlot.Pool;

    public override LayerSpec Read(IArgumentReader a)
    {
        int size = IntOr(a.Positional(0), 0);
        // Without an explicit Stride, the stride is the window: a bad Size is then one error, not two.
        int stride = a.HasNamed(nameof(MaxPool2DAttribute.Stride)) ? IntOr(a.Named(nameof(MaxPool2DAttribute.Stride)), 0) : Math.Max(size, 1);
        return new LayerSpec(Kind, 0, size, true, stride, 0, 0, 0, 0);
    }

    public override void Check(LayerSpec s, LayerFindings f)
    {
        if (s.Kernel <= 0) f.Report(nameof(MaxPool2DAttribute.Size), DiagnosticDescriptors.NonPositiveSize, f.What, nameof(MaxPool2DAttribute.Size), s.Kernel);
        if (s.Stride <= 0) f.Report(nameof(MaxPool2DAttribute.Stride), DiagnosticDescriptors.PoolStrideBelowOne, f.What, s.Stride);
    }

    public override Shape? Output(ShapeRule rule)
    {
        LayerSpec s = rule.Spec;
        Shape shape = rule.Input;
        if (!shape.IsImage) return rule.Fail(null, DiagnosticDescriptors.NeedsImageInput, rule.What, rule.FlatInputReason());
        if (s.Kernel > shape.H || s.Kernel > shape.W)
            return rule.Fail(nameof(MaxPool2DAttribute.Size), DiagnosticDescriptors.WindowTooLarge, rule.What, Inv($"{s.Kernel}x{s.Kernel}"), shape.ToString(), "");
        return Shape.Image(shape.C, (shape.H - s.Kernel) / s.Stride + 1, (shape.W - s.Kernel) / s.Stride + 1);
    }

    public override string InfoArguments(LayerModel l) => $", Kernel: {l.KernelHeight}, Stride: {l.StrideHeight}";
}
