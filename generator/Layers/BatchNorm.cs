using System.Collections.Generic;
using System.Globalization;
using GraphGen.Generator.Model;
using GraphGen.Generator.Parsing;
using GraphGen.Generator.Vocabulary;
using static GraphGen.Generator.Parsing.ShapeInference;

namespace GraphGen.Generator.Layers;

/// <summary>[BatchNorm]: per-channel (per-feature, for a flat input) normalization by the batch statistics in
/// training and the moving ones in inference; γ and β are parameters, the moving mean and variance state.</summary>
internal sealed class BatchNorm : LayerDefinition
{
    public override LayerKind Kind => LayerKind.BatchNorm;
    public override string AttributeName => nameof(BatchNormAttribute);
    public override string Stem => "batchnorm";
    public override FusionSlot Slot => FusionSlot.BatchNorm;

    public override LayerSpec Read(IArgumentReader a) => new(Kind, 0, 0, false, 0, 0, IntOr(a.Named(nameof(BatchNormAttribute.Features)), 0),
        DoubleOr(a.Named(nameof(BatchNormAttribute.Epsilon)), 1e-5), DoubleOr(a.Named(nameof(BatchNormAttribute.Momentum)), 0.9));

    public override void Check(LayerSpec s, LayerFindings f)
    {
        if (s.Features < 0) f.Report(nameof(BatchNormAttribute.Features), DiagnosticDescriptors.NonPositiveSize, f.What, nameof(BatchNormAttribute.Features), s.Features);
        if (!(s.Epsilon > 0) || double.IsInfinity(s.Epsilon) || s.Epsilon > 1)
            f.Report(nameof(BatchNormAttribute.Epsilon), DiagnosticDescriptors.InvalidBatchNormEpsilon, f.What, Inv($"{s.Epsilon}"));
        if (!(s.Momentum >= 0 && s.Momentum <= 1))
            f.Report(nameof(BatchNormAttribute.Momentum), DiagnosticDescriptors.InvalidBatchNormMomentum, f.What, Inv($"{s.Momentum}"));
    }

    public override Shape? Output(ShapeRule rule)
    {
        LayerSpec s = rule.Spec;
        Shape shape = rule.Input;
        if (s.Features != 0 && s.Features != shape.C)
        {
            string unit = shape.IsImage ? "channels" : "features";
            return rule.Fail(nameof(BatchNormAttribute.Features), DiagnosticDescriptors.BatchNormFeatureMismatch, rule.What, s.Features, shape.ToString(), rule.Before, shape.C, unit);
        }
        // Warnings: the layer is still made.
        if (s.Momentum < 0.5)
            rule.Findings.Report(nameof(BatchNormAttribute.Momentum), DiagnosticDescriptors.LowBatchNormMomentum,
                rule.What, s.Momentum.ToString("R", CultureInfo.InvariantCulture), (1 - s.Momentum).ToString("R", CultureInfo.InvariantCulture));
        if (rule.Producer is { Kind: LayerKind.BatchNorm, Marker: Marker.None })
            rule.Findings.Report(null, DiagnosticDescriptors.ConsecutiveBatchNorms, rule.What, rule.Before);
        return shape;
    }

    public override IEnumerable<LayerTensor> Tensors(LayerModel l) => new[]
    {
        new LayerTensor("gamma", new[] { l.Input.C }, true),
        new LayerTensor("beta", new[] { l.Input.C }, true),
        new LayerTensor("moving_mean", new[] { l.Input.C }, false),
        new LayerTensor("moving_var", new[] { l.Input.C }, false),
    };

    public override string InfoArguments(LayerModel l) => $", Epsilon: {Num(l.Epsilon)}, Momentum: {Num(l.Momentum)}";
}
