using System.Collections.Generic;
using GraphGen.Generator.Model;
using GraphGen.Generator.Parsing;
using GraphGen.Generator.Vocabulary;
using static GraphGen.Generator.Parsing.ShapeInference;

namespace GraphGen.Generator.Layers;

/// <summary>[Dense(units)]: a fully connected layer on the flattened input; units×inputs weight and bias.</summary>
internal sealed class Dense : LayerDefinition
{
    public override LayerKind Kind => LayerKind.Dense;
    public override string AttributeName => nameof(DenseAttribute);
    public override string Stem => "dense";
    public override FusionSlot Slot => FusionSlot.Producer;

    public override LayerSpec Read(IArgumentReader a) => new(Kind, IntOr(a.Positional(0), 0), 0, false, 0, 0, 0, 0, 0);

    public override void Check(LayerSpec s, LayerFindings f)
    {
        if (s.Outputs <= 0) f.Report(nameof(DenseAttribute.Units), DiagnosticDescriptors.NonPositiveSize, f.What, nameof(DenseAttribute.Units), s.Outputs);
    }

    public override Shape? Output(ShapeRule rule)
    {
        int units = rule.Spec.Outputs;
        double weights = (double)units * rule.Input.Size + units;
        if (weights + rule.Parameters > MaxParameters)
            return rule.Fail(null, DiagnosticDescriptors.TooLarge, rule.What, "the network", Count(weights + rule.Parameters), "parameters", Count(MaxParameters));
        return Shape.Flat(units);
    }

    public override IEnumerable<LayerTensor> Tensors(LayerModel l) => new[]
    {
        new LayerTensor(LayerTensor.Weight, new[] { l.Outputs, (int)l.Input.Size }, true),
        new LayerTensor("bias", new[] { l.Outputs }, true),
    };

    public override string InfoArguments(LayerModel l) => $", Outputs: {l.Outputs}";
}
